"""Reading an officer's own roster file: Excel (.xlsx) or CSV in UTF-8 or Shift_JIS.

Rosters are made by hand: a title row above the headers, header cells merged over two
columns, 全角 digits, blank lines. This module only turns a file into a grid of strings and
finds the header row; what the columns mean is bot/features/households/roster.py's.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from dataclasses import dataclass

from openpyxl import load_workbook

MAX_ROWS = 20_000
MAX_BYTES = 5_000_000
HEADER_SCAN = 10  # a header row further down than this is not a header


class RosterFileError(ValueError):
    """The file cannot be read; `code` names the reason for the page."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Grid:
    """The roster as text cells: the header row and the data rows under it (with their line
    numbers in the file, counted from 1, for error messages)."""

    headers: list[str]
    rows: list[tuple[int, list[str]]]


def cell_text(value: object) -> str:
    """A cell as text: NFKC (全角 digits become half-width), whole floats without '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(unicodedata.normalize("NFKC", str(value)).split())


def read_grid(filename: str, data: bytes, *, is_header: object) -> Grid:
    """Read a roster file into a grid; `is_header(text) -> bool` recognises header cells."""
    if len(data) > MAX_BYTES:
        raise RosterFileError("too_big")
    if not data.strip():
        raise RosterFileError("empty")
    lines = _xlsx_lines(data) if _is_xlsx(filename, data) else _csv_lines(data)
    return _split(lines, is_header)


def _is_xlsx(filename: str, data: bytes) -> bool:
    return filename.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK"


def _xlsx_lines(data: bytes) -> list[list[str]]:
    try:
        book = load_workbook(io.BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise RosterFileError("unreadable") from None
    sheet = book.worksheets[0]
    # A merged cell holds its value in the top-left cell only: spread it over the range, so a
    # header merged over two columns names both.
    fill: dict[tuple[int, int], object] = {}
    for merged in sheet.merged_cells.ranges:
        value = sheet.cell(merged.min_row, merged.min_col).value
        for row in range(merged.min_row, merged.max_row + 1):
            for column in range(merged.min_col, merged.max_col + 1):
                fill[(row, column)] = value
    lines = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number > MAX_ROWS + HEADER_SCAN:
            raise RosterFileError("too_many")
        lines.append([cell_text(fill.get((number, c), v)) for c, v in enumerate(values, start=1)])
    return lines


def _csv_lines(data: bytes) -> list[list[str]]:
    text = _decode(data)
    lines = [[cell_text(v) for v in row] for row in csv.reader(io.StringIO(text))]
    if len(lines) > MAX_ROWS + HEADER_SCAN:
        raise RosterFileError("too_many")
    return lines


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) first; Excel's Japanese CSV is Shift_JIS (cp932)."""
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RosterFileError("encoding")


def _split(lines: list[list[str]], is_header: object) -> Grid:
    assert callable(is_header)
    best, best_hits = -1, 1
    for i, line in enumerate(lines[:HEADER_SCAN]):
        hits = len({cell for cell in line if cell and is_header(cell)})
        if hits > best_hits:
            best, best_hits = i, hits
    if best < 0:
        raise RosterFileError("no_header")
    headers = lines[best]
    rows = [
        (number, line + [""] * (len(headers) - len(line)))
        for number, line in enumerate(lines[best + 1 :], start=best + 2)
        if any(line)
    ]
    return Grid(headers, rows)
