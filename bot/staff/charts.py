"""Charts drawn on the server as SVG: no JavaScript, prints well, works offline on a tablet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from markupsafe import Markup

ROW_HEIGHT = 22
LABEL_WIDTH = 150
VALUE_WIDTH = 56


@dataclass(frozen=True)
class Bar:
    """One bar: its label and value; `target` draws a marker the value is measured against."""

    label: str
    value: float
    target: float | None = None


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bar_chart(bars: Sequence[Bar], *, title: str, width: int = 520, unit: str = "") -> Markup:
    """A horizontal bar chart; bars scale to the largest value or target."""
    top = max([b.value for b in bars] + [b.target or 0 for b in bars] + [1])
    plot = width - LABEL_WIDTH - VALUE_WIDTH
    height = ROW_HEIGHT * max(len(bars), 1) + 8
    parts = [
        f'<svg class="chart" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="100%" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, bar in enumerate(bars):
        y = 4 + i * ROW_HEIGHT
        length = plot * bar.value / top
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end" class="chart-label">'
            f"{escape(bar.label[:18])}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length:.1f}" height="{ROW_HEIGHT - 8}" '
            f'class="chart-bar"><title>{escape(bar.label)}: {_fmt(bar.value)}{escape(unit)}</title>'
            f"</rect>"
            f'<text x="{LABEL_WIDTH + length + 4:.1f}" y="{y + 15}" class="chart-value">'
            f"{_fmt(bar.value)}{escape(unit)}</text>"
        )
        if bar.target is not None:
            x = LABEL_WIDTH + plot * bar.target / top
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y + 1}" y2="{y + ROW_HEIGHT - 3}" '
                f'class="chart-target"/>'
            )
    parts.append("</svg>")
    # Every interpolated text went through escape() above, so the markup is safe to embed.
    return Markup("".join(parts))
