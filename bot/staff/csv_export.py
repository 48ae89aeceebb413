"""CSV exports Excel in Japan opens correctly: UTF-8 with a BOM, CRLF, Japanese headers."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from urllib.parse import quote

from fastapi.responses import Response

from bot.staff.i18n import Translator
from bot.staff.tables import Table

BOM = "\ufeff"
# Cells starting with these are formulas to Excel; a quote keeps them text (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def table_to_csv(table: Table, words: Translator) -> bytes:
    """The table as CSV bytes: BOM, headers in `words`' language, the page's own values."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([words(column.label) for column in table.columns])
    for values in table.shown(words):
        writer.writerow([_cell(value) for value in values])
    return (BOM + buffer.getvalue()).encode("utf-8")


def csv_response(table: Table, words: Translator, stamp: str) -> Response:
    """A download response named `<table>-<stamp>.csv`."""
    filename = f"{table.name}-{stamp}.csv"
    return Response(
        content=table_to_csv(table, words),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "no-store",
        },
    )
