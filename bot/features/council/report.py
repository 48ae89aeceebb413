"""The council report as paper and as a workbook, from the tables every feature answers with.

The PDF (bot/staff/pdf.py) and the workbook (bot/staff/xlsx_export.py) render the same
CouncilTable rows the features' pages render, so every number is the page's own. Trends are
drawn as vector graphics (axes, scale, interval whiskers, target and baseline lines).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from reportlab.graphics.shapes import Circle, Drawing, Line, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from sqlmodel import Session

from bot.core import hooks
from bot.core.hooks import CouncilQuery, CouncilTable, CouncilTrend
from bot.staff.i18n import Translator
from bot.staff.pdf import PdfDocument, font_name, usable_width_mm
from bot.staff.tables import Table, from_council
from bot.staff.xlsx_export import tables_to_xlsx


@dataclass(frozen=True)
class Report:
    """The report's title lines and its tables, in order."""

    title: str
    period: str
    sections: list[CouncilTable]

    def tables(self) -> list[tuple[CouncilTable, Table]]:
        """Each section beside its Table."""
        return [(s, from_council(s)) for s in self.sections]


def period_text(words: Translator, since: date | None, until: date | None) -> str:
    """The period in words ("全期間" when open at both ends)."""
    if since is None and until is None:
        return words("council.period_all")
    return words(
        "council.period",
        since=since.isoformat() if since else "",
        until=until.isoformat() if until else "",
    )


def gather(session: Session, query: CouncilQuery) -> Report:
    """Ask every feature for its tables of the area and period."""
    words = query.words
    period = period_text(words, query.since, query.until)
    title = words("council.report_title", area=query.area_name, period=period)
    return Report(title, period, hooks.ask_council_sections(session, query))


def to_xlsx(report: Report, words: Translator) -> bytes:
    """One sheet per table, headers in `words`' language."""
    return tables_to_xlsx([(s.sheet, table) for s, table in report.tables()], words)


def to_pdf(report: Report, words: Translator, made_at: str, caveat: str) -> bytes:
    """The printable report: title, each table under its heading, trends drawn above them."""
    doc = PdfDocument(title=report.title)
    doc.heading(report.title, size=15)
    doc.paragraph(words("council.generated", at=made_at), size=9)
    doc.paragraph(caveat, size=9)
    if not report.sections:
        doc.paragraph(words("council.no_sections"))
    last_title = ""
    for section, table in report.tables():
        if section.title != last_title:
            doc.heading(section.title, size=12)
            last_title = section.title
        if section.trend is not None and section.trend.marks:
            doc.add(trend_drawing(section.trend))
            doc.spacer(3)
        headers = [words(c.label) for c in table.columns]
        rows = [["" if v is None else v for v in values] for values in table.values()]
        size = 8 if len(headers) >= 6 else 9
        doc.table(headers, rows, widths_mm=_widths(table), size=size)
        if section.note:
            doc.paragraph(section.note, size=8)
    doc.heading(words("council.method_title"), size=12)
    doc.paragraph(words("surveys.rep.method"), size=8)
    return doc.render()


def _widths(table: Table) -> list[float]:
    """Text columns get twice the room of number columns."""
    weights = [1.0 if c.numeric else 2.0 for c in table.columns]
    total = sum(weights)
    return [usable_width_mm() * w / total for w in weights]


def trend_drawing(trend: CouncilTrend, width_mm: float = 170, height_mm: float = 65) -> Drawing:
    """The trend as a ReportLab drawing: y axis with a scale, periods on x, whiskers, lines."""
    width, height = float(width_mm * mm), float(height_mm * mm)
    left, right, top_pad, bottom = 34.0, 8.0, 14.0, 22.0
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    values = [v for m in trend.marks for v in (m[1], m[3]) if v is not None]
    values += [v for v, _ in trend.references]
    top = _nice_top(values)
    font = font_name()
    drawing = Drawing(width, height)

    def y(value: float) -> float:
        return bottom + plot_h * value / top

    for i in range(6):
        value = top * i / 5
        drawing.add(Line(left, y(value), width - right, y(value), strokeColor=colors.lightgrey))
        drawing.add(
            String(
                left - 3, y(value) - 3, f"{value:g}", fontName=font, fontSize=7, textAnchor="end"
            )
        )
    drawing.add(Line(left, bottom, left, bottom + plot_h, strokeColor=colors.black))
    drawing.add(Line(left, bottom, width - right, bottom, strokeColor=colors.black))
    drawing.add(String(2, height - 9, trend.y_label, fontName=font, fontSize=7))
    for value, label in trend.references:
        drawing.add(
            Line(
                left,
                y(value),
                width - right,
                y(value),
                strokeColor=colors.darkorange,
                strokeDashArray=[4, 3],
                strokeWidth=1.2,
            )
        )
        drawing.add(
            String(
                width - right - 2,
                y(value) + 2,
                f"{label} {value:g}%",
                fontName=font,
                fontSize=7,
                textAnchor="end",
                fillColor=colors.darkorange,
            )
        )
    step = plot_w / max(len(trend.marks), 1)
    previous: tuple[float, float] | None = None
    for i, (label, point, low, high) in enumerate(trend.marks):
        x = left + step * (i + 0.5)
        drawing.add(
            String(x, bottom - 10, label[:12], fontName=font, fontSize=7, textAnchor="middle")
        )
        if point is None:
            drawing.add(
                String(
                    x,
                    bottom + 4,
                    trend.hidden_label,
                    fontName=font,
                    fontSize=6,
                    textAnchor="middle",
                    fillColor=colors.grey,
                )
            )
            previous = None
            continue
        green = colors.HexColor("#0b6e4f")
        if low is not None and high is not None:
            drawing.add(Line(x, y(low), x, y(high), strokeColor=green))
            drawing.add(Line(x - 3, y(low), x + 3, y(low), strokeColor=green))
            drawing.add(Line(x - 3, y(high), x + 3, y(high), strokeColor=green))
        if previous is not None:
            drawing.add(
                Line(previous[0], previous[1], x, y(point), strokeColor=green, strokeWidth=1.5)
            )
        drawing.add(Circle(x, y(point), 2.5, fillColor=green, strokeColor=green))
        drawing.add(String(x + 4, y(point) + 3, f"{point:.1f}", fontName=font, fontSize=7))
        previous = (x, y(point))
    return drawing


def _nice_top(values: Sequence[float]) -> float:
    top = max([*values, 1.0])
    for step in (10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if top <= step * 5:
            return float(-(-top // step) * step)
    return float(-(-top // 1000) * 1000)
