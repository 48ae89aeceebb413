"""Charts drawn on the server as SVG: no JavaScript, prints well, works offline on a tablet."""

from __future__ import annotations

import math
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


@dataclass(frozen=True)
class TrendMark:
    """One period of a trend: its label, and the value with its interval (None: not shown)."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class ReferenceLine:
    """A horizontal line across a trend chart (a target, a baseline) with its legend text."""

    value: float
    label: str
    css: str  # chart-target or chart-baseline


def _nice_top(values: Sequence[float]) -> float:
    """The y axis' top: 100 for percentages near it, else the next multiple of a round step."""
    top = max([*values, 1.0])
    for step in (10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if top <= step * 5:
            return float(math.ceil(top / step) * step)
    return float(math.ceil(top / 10000) * 10000)


def trend_chart(
    marks: Sequence[TrendMark],
    *,
    title: str,
    y_label: str,
    references: Sequence[ReferenceLine] = (),
    hidden_label: str = "",
    unit: str = "%",
    width: int = 420,
    height: int = 250,
) -> Markup:
    """A trend across periods: points with 95% interval whiskers, y axis with a scale and
    gridlines, x axis with the period labels, and reference lines (target, baseline).

    A period whose value is suppressed keeps its place on the x axis and says so.
    """
    left, right, top_pad, bottom = 40, 8, 28, 40
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    values = [v for m in marks for v in (m.value, m.high) if v is not None]
    top = _nice_top(values + [r.value for r in references])

    def y(value: float) -> float:
        return top_pad + plot_h * (1 - value / top)

    parts = [
        f'<svg class="chart trend" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="100%" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(6):  # y axis: gridlines and ticks at sixths of the top
        value = top * i / 5
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'class="chart-grid"/><text x="{left - 4}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end" class="chart-tick">{_fmt(value)}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{left}" y1="{top_pad}" y2="{top_pad + plot_h}" class="chart-axis"/>'
        f'<line x1="{left}" x2="{width - right}" y1="{top_pad + plot_h}" '
        f'y2="{top_pad + plot_h}" class="chart-axis"/>'
        f'<text x="4" y="14" class="chart-tick">{escape(y_label)}</text>'
    )
    for ref in references:
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(ref.value):.1f}" '
            f'y2="{y(ref.value):.1f}" class="{escape(ref.css)}"/>'
            f'<text x="{left + 4}" y="{y(ref.value) - 4:.1f}" '
            f'class="chart-ref">{escape(ref.label)} {_fmt(ref.value)}{escape(unit)}</text>'
        )
    step = plot_w / max(len(marks), 1)
    previous: tuple[float, float] | None = None
    for i, mark in enumerate(marks):
        x = left + step * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{top_pad + plot_h + 16}" text-anchor="middle" '
            f'class="chart-tick">{escape(mark.label[:12])}</text>'
        )
        if mark.value is None:
            parts.append(
                f'<text x="{x:.1f}" y="{top_pad + plot_h - 6}" text-anchor="middle" '
                f'class="chart-hidden">{escape(hidden_label)}</text>'
            )
            previous = None
            continue
        if mark.low is not None and mark.high is not None:
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y(mark.low):.1f}" y2="{y(mark.high):.1f}" '
                f'class="chart-whisker"/>'
                f'<line x1="{x - 5:.1f}" x2="{x + 5:.1f}" y1="{y(mark.low):.1f}" '
                f'y2="{y(mark.low):.1f}" class="chart-whisker"/>'
                f'<line x1="{x - 5:.1f}" x2="{x + 5:.1f}" y1="{y(mark.high):.1f}" '
                f'y2="{y(mark.high):.1f}" class="chart-whisker"/>'
            )
        point = (x, y(mark.value))
        if previous is not None:
            parts.append(
                f'<line x1="{previous[0]:.1f}" x2="{point[0]:.1f}" y1="{previous[1]:.1f}" '
                f'y2="{point[1]:.1f}" class="chart-line"/>'
            )
        interval = (
            f" ({_fmt(mark.low)}–{_fmt(mark.high)})"
            if mark.low is not None and mark.high is not None
            else ""
        )
        parts.append(
            f'<circle cx="{point[0]:.1f}" cy="{point[1]:.1f}" r="4" class="chart-point">'
            f"<title>{escape(mark.label)}: {_fmt(mark.value)}{escape(unit)}{interval}</title>"
            f"</circle>"
            f'<text x="{point[0] + 7:.1f}" y="{point[1] - 6:.1f}" class="chart-value">'
            f"{_fmt(mark.value)}</text>"
        )
        previous = point
    parts.append("</svg>")
    # Every interpolated text went through escape() above, so the markup is safe to embed.
    return Markup("".join(parts))
