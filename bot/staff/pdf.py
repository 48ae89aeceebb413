"""Printable A4 PDFs rendered on the server (ReportLab), with a Japanese font embedded.

One small builder for every paper the staff web hands out: notices for the 回覧板, reception
sheets, venue posters, join slips, council reports. ReportLab was chosen over WeasyPrint
because its wheels need no system libraries (Pango, Cairo): the quick start stays two
commands. The font is IPAGothic or Noto CJK where the machine has one (embedded and
subset, so the text is extractable and prints the same at a convenience store); without one
ReportLab's built-in Japanese CID font is used, which viewers supply themselves.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from fastapi.responses import Response
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

FONT_NAME = "TsunagariJP"
# Embedded fonts, first found wins (Debian's fonts-ipafont-gothic, then Noto CJK).
_FONT_FILES = (
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/truetype/ipafont/ipag.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
_CID_FALLBACK = "HeiseiKakuGo-W5"
MARGIN = 15 * mm


@cache
def font_name() -> str:
    """Register the Japanese font once per process and return its name."""
    for candidate in _FONT_FILES:
        path = Path(candidate)
        if path.exists():
            try:
                pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=0))
                return FONT_NAME
            except Exception:  # noqa: BLE001 - an unreadable font falls through to the next
                continue
    pdfmetrics.registerFont(UnicodeCIDFont(_CID_FALLBACK))
    return str(_CID_FALLBACK)


def _style(size: float, *, leading: float | None = None, bold: bool = False) -> ParagraphStyle:
    return ParagraphStyle(
        name=f"jp{size}{bold}",
        fontName=font_name(),
        fontSize=size,
        leading=leading or size * 1.45,
        wordWrap="CJK",  # Japanese wraps between any two characters, not only at spaces
        textColor=colors.black,
    )


def _text(value: Any) -> str:
    """Plain text for a Paragraph: escaped, line breaks kept."""
    return escape("" if value is None else str(value)).replace("\n", "<br/>")


@dataclass
class PdfDocument:
    """An A4 document built top to bottom; `render()` returns the PDF bytes."""

    title: str
    author: str = "Tsunagari"
    _parts: list[Flowable] = field(default_factory=list)

    def heading(self, text: str, *, size: float = 18) -> PdfDocument:
        """A heading line (large, with space below)."""
        self._parts.append(Paragraph(_text(text), _style(size)))
        self._parts.append(Spacer(1, size * 0.5))
        return self

    def paragraph(self, text: str, *, size: float = 11) -> PdfDocument:
        """Body text; newlines in `text` are kept."""
        self._parts.append(Paragraph(_text(text), _style(size)))
        self._parts.append(Spacer(1, size * 0.4))
        return self

    def spacer(self, height_mm: float) -> PdfDocument:
        """Vertical space."""
        self._parts.append(Spacer(1, height_mm * mm))
        return self

    def table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        widths_mm: Sequence[float] | None = None,
        size: float = 10,
        row_height_mm: float | None = None,
    ) -> PdfDocument:
        """A ruled table; the header row repeats on every page it spans."""
        style = _style(size)
        data = [[Paragraph(_text(h), style) for h in headers]]
        data += [[Paragraph(_text(cell), style) for cell in row] for row in rows]
        widths = [w * mm for w in widths_mm] if widths_mm else None
        heights = [None] + [row_height_mm * mm] * len(rows) if row_height_mm is not None else None
        table = Table(data, colWidths=widths, rowHeights=heights, repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        self._parts.append(table)
        self._parts.append(Spacer(1, 4 * mm))
        return self

    def qr(
        self, url: str, *, size_mm: float = 40, caption: str | None = None, center: bool = False
    ) -> PdfDocument:
        """A QR code for `url`, `size_mm` square, with an optional caption under it."""
        widget = QrCodeWidget(url)
        x0, y0, x1, y1 = widget.getBounds()
        side = size_mm * mm
        drawing = Drawing(side, side, transform=[side / (x1 - x0), 0, 0, side / (y1 - y0), 0, 0])
        drawing.add(widget)
        drawing.hAlign = "CENTER" if center else "LEFT"  # a poster's QR sits in the middle
        parts: list[Flowable] = [drawing]
        if caption:
            parts.append(Paragraph(_text(caption), _style(10)))
        self._parts.append(KeepTogether(parts))
        self._parts.append(Spacer(1, 4 * mm))
        return self

    def page_break(self) -> PdfDocument:
        """Start a new page."""
        self._parts.append(PageBreak())
        return self

    def add(self, flowable: Flowable) -> PdfDocument:
        """Any ReportLab flowable, for layouts the helpers above do not cover."""
        self._parts.append(flowable)
        return self

    def render(self) -> bytes:
        """The finished PDF."""
        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=MARGIN,
            title=self.title,
            author=self.author,
        )
        doc.build(list(self._parts) or [Spacer(1, 1)])
        return buffer.getvalue()


def usable_width_mm() -> float:
    """The width inside the margins, for sizing table columns."""
    return float((A4[0] - 2 * MARGIN) / mm)


def pdf_response(content: bytes, filename: str) -> Response:
    """A download response for a rendered PDF (inline, so phones open it in their viewer)."""
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}"},
    )
