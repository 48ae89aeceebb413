"""The shared PDF and Excel builders: Japanese text survives, pages are A4, values stay typed."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from pypdf import PdfReader

from bot.staff.i18n import Translator
from bot.staff.pdf import PdfDocument
from bot.staff.tables import Column, Table
from bot.staff.xlsx_export import tables_to_xlsx


def test_a_short_pdf_is_one_a4_page_with_extractable_japanese() -> None:
    pdf = (
        PdfDocument(title="回覧")
        .heading("上田一丁目町内会 回覧")
        .paragraph("12月の清掃活動のお知らせです。\n軍手をお持ちください。")
        .table(["氏名", "人数"], [["山田 花子", 2], ["", ""]], widths_mm=[120, 40])
        .qr("https://example.jp/checkin/abc", size_mm=50, caption="受付用QRコード")
        .render()
    )
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert (round(float(width)), round(float(height))) == (595, 842)  # A4 in points
    text = reader.pages[0].extract_text()
    for expected in ("上田一丁目町内会", "軍手をお持ちください", "山田 花子", "受付用QRコード"):
        assert expected in text


def test_a_long_table_spans_pages_and_repeats_its_header() -> None:
    rows = [[f"世帯{i}", i] for i in range(120)]
    reader = PdfReader(io.BytesIO(PdfDocument(title="名簿").table(["世帯", "番号"], rows).render()))
    assert len(reader.pages) > 1
    assert all("世帯" in page.extract_text() for page in reader.pages)
    assert "世帯119" in reader.pages[-1].extract_text()


def test_workbook_has_one_sheet_per_table_with_translated_headers_and_numbers() -> None:
    words = Translator("ja", {"t.name": "氏名", "t.count": "人数"})
    table = Table(
        name="people",
        columns=[Column("name", "t.name"), Column("count", "t.count", numeric=True)],
        rows=[{"name": "=SUM(A1)", "count": 3}, {"name": "佐藤", "count": None}],
    )
    book = load_workbook(io.BytesIO(tables_to_xlsx([("参加者[1]", table)], words)))
    assert book.sheetnames == ["参加者_1_"]
    sheet = book["参加者_1_"]
    assert [c.value for c in sheet[1]] == ["氏名", "人数"]
    assert [c.value for c in sheet[2]] == ["'=SUM(A1)", 3]  # a formula stays text
    assert [c.value for c in sheet[3]] == ["佐藤", None]
