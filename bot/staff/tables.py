"""A table as data: the page and its CSV export render the same object, so numbers agree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.core.hooks import CouncilTable, CouncilTrend


@dataclass(frozen=True)
class Column:
    """One column: the row key, the staff-text key of its header, and whether it is a number."""

    key: str
    label: str
    numeric: bool = False
    # A staff-text prefix: cells show t(labels + value) (a status or method code, never raw).
    labels: str = ""


@dataclass
class Table:
    """Rows of plain values under columns; `name` becomes the CSV file name."""

    name: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    # Figures shown beside the table (e.g. walk-ins), not part of its rows or CSV.
    notes: dict[str, Any] = field(default_factory=dict)

    def shown(self, words: Callable[[str], str]) -> list[list[Any]]:
        """`values` with coded cells turned into words, as the page shows them (CSV, xlsx)."""
        return [
            [
                words(c.labels + str(v)) if c.labels and v not in ("", None) else v
                for c, v in zip(self.columns, values, strict=True)
            ]
            for values in self.values()
        ]

    def values(self) -> list[list[Any]]:
        """Each row's cells in column order (blank for a missing value)."""
        return [[row.get(c.key, "") for c in self.columns] for row in self.rows]

    def total(self, key: str) -> int | float:
        """The sum of a numeric column, for footers and charts."""
        return sum(row.get(key) or 0 for row in self.rows)


def council_table(
    words: Callable[[str], str],
    table: Table,
    *,
    order: int,
    title: str,
    sheet: str,
    note: str = "",
    trend: CouncilTrend | None = None,
) -> CouncilTable:
    """A page's table as a council-report table (the same rows, so the numbers agree; coded
    cells in the words the page shows)."""
    coded = [c for c in table.columns if c.labels]
    rows = [
        {**row, **{c.key: words(c.labels + str(row[c.key])) for c in coded if row.get(c.key)}}
        for row in table.rows
    ]
    return CouncilTable(
        order=order,
        name=table.name,
        title=title,
        sheet=sheet,
        columns=tuple((c.key, c.label, c.numeric) for c in table.columns),
        rows=tuple(rows),
        note=note,
        trend=trend,
    )


def from_council(section: CouncilTable) -> Table:
    """A council-report table back as a Table (for the page, the workbook and the PDF)."""
    columns = [Column(key, label, numeric) for key, label, numeric in section.columns]
    return Table(section.name, columns, [dict(row) for row in section.rows])


NOTE_COLUMNS = [Column("item", "col.section"), Column("value", "col.value")]


def notes_table(name: str, notes: dict[str, str], words: Any) -> Table:
    """The figures a page shows beside its table (its `note.*` cards) as a two-column table."""
    rows = [{"item": words(f"note.{key}"), "value": value} for key, value in notes.items()]
    return Table(name, NOTE_COLUMNS, rows)
