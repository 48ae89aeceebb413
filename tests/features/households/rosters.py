"""Roster files as officers make them, built in the test: xlsx with a title row and merged
header cells, 全角 digits; CSV in Shift_JIS."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook


def xlsx_roster(rows: Sequence[Sequence[object]], *, title: str = "令和8年度 世帯名簿") -> bytes:
    """A workbook: a merged title row, a merged group header (連絡先 over 氏名/人数), then rows
    of (班, 住所・部屋, 氏名, 人数, 届け方)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"] = title
    sheet.merge_cells("A1:E1")
    sheet["A2"], sheet["C2"], sheet["E2"] = "所属", "連絡先", "届け方"
    sheet.merge_cells("A2:B2")
    sheet.merge_cells("C2:D2")
    sheet.merge_cells("E2:E3")  # 届け方 spans both header rows
    sheet["A3"], sheet["B3"], sheet["C3"], sheet["D3"] = "班", "住所・部屋", "氏名", "人数"
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_roster(rows: Sequence[Sequence[object]], *, encoding: str = "cp932") -> bytes:
    """A CSV with headers 班,住所,世帯主,世帯人数,言語 in `encoding` (Excel's Japanese CSV)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["班", "住所", "世帯主", "世帯人数", "言語"])
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def forty_households() -> list[list[object]]:
    """40 households in 4 班 of 10 (班 1-4, addresses 1-1 … 4-10), full-width digits."""
    full = str.maketrans("0123456789-", "０１２３４５６７８９－")
    return [
        [f"{h}班", f"本町{h}-{n}".translate(full), f"住民{h}{n:02d}", _people(n, full), "紙"]
        for h in range(1, 5)
        for n in range(1, 11)
    ]


def _people(n: int, table: dict[int, int]) -> str:
    return str(1 + n % 4).translate(table)
