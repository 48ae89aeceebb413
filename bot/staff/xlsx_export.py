"""Excel workbooks (openpyxl) from the same Table objects the pages and CSVs render.

One sheet per table, headers in the reader's language, numbers as numbers, so the figures in
the workbook are the page's own.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.styles import Font

from bot.staff.i18n import Translator
from bot.staff.tables import Table

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel refuses sheet titles longer than 31 characters or holding any of these.
_BAD_TITLE = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))


def _cell(value: object) -> object:
    if value is None or isinstance(value, bool | int | float | datetime):
        return value
    text = str(value)
    # A leading "=" would make the cell a formula (the CSV export guards the same way).
    return "'" + text if text.startswith(("=", "+", "-", "@")) else text


def tables_to_xlsx(sheets: Sequence[tuple[str, Table]], words: Translator) -> bytes:
    """A workbook with one sheet per (title, table), headers translated by `words`."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, table in sheets:
        sheet = book.create_sheet(title.translate(_BAD_TITLE)[:31] or "Sheet")
        sheet.append([words(column.label) for column in table.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for values in table.shown(words):
            sheet.append([_cell(value) for value in values])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_response(content: bytes, filename: str) -> Response:
    """A download response for a workbook."""
    return Response(
        content,
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )
