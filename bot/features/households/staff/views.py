"""The register as staff see it: tables shared by the page, the CSV and the workbook."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from bot.core import households as register
from bot.features.households import progress
from bot.features.households.roster import Preview, RowValues
from bot.staff.tables import Column, Table

Words = Callable[..., str]

HOUSEHOLD_COLUMNS = [
    Column("han", "col.han"),
    Column("address", "households.col.address"),
    Column("contact_name", "households.col.contact"),
    Column("people", "households.col.people", numeric=True),
    Column("reach", "households.col.reach"),
    Column("language", "households.col.language"),
]
PROGRESS_COLUMNS = [
    Column("han", "col.han"),
    Column("households", "col.han_households", numeric=True),
    Column("line", "households.col.line", numeric=True),
    Column("paper_only", "households.col.paper_only", numeric=True),
    Column("not_reached", "households.col.not_reached", numeric=True),
    Column("rate", "households.col.line_rate", numeric=True),
]


def households_table(session: Session, association_id: int, t: Words) -> Table:
    """Every household of the association, by 班 and address (names: officers only)."""
    rows = [
        {
            "id": h.id,
            "han": h.han or t("households.no_han"),
            "address": h.address,
            "contact_name": h.contact_name,
            "people": h.people if h.people is not None else "",
            "reach": t(f"households.reach.{h.reach}"),
            "language": t(f"households.language.{h.language}"),
        }
        for h in register.in_han(session, association_id=association_id)
    ]
    return Table(f"households-{association_id}", HOUSEHOLD_COLUMNS, rows)


def progress_table(session: Session, association_id: int, t: Words) -> Table:
    """Per 班: households, on LINE, on paper only, not reached, share on LINE."""
    rows = [
        {
            "han": p.han or t("households.no_han"),
            "households": p.households,
            "line": p.line,
            "paper_only": p.paper_only,
            "not_reached": p.not_reached,
            "rate": round(p.line_rate * 100, 1),
        }
        for p in progress.by_han(session, association_id=association_id)
    ]
    return Table(f"households-{association_id}-progress", PROGRESS_COLUMNS, rows)


def preview_rows(found: Preview, t: Words) -> list[dict[str, str]]:
    """The preview as rows to show: what happens to each line of the file, errors first."""
    out = [
        {
            "line": str(line),
            "what": t("households.preview_error"),
            "detail": t(f"households.row_error.{code}"),
        }
        for line, code in found.errors
    ]
    out += [
        {
            "line": str(line),
            "what": t("households.preview_duplicate"),
            "detail": t("households.same_as", line=first),
        }
        for line, first in found.duplicates
    ]
    out += [
        {"line": str(line), "what": t("households.preview_added"), "detail": _label(v)}
        for line, v in found.added
    ]
    out += [
        {
            "line": str(line),
            "what": t("households.preview_changed"),
            "detail": t(
                "households.changed_detail",
                household=_label(v),
                fields=t("households.list_sep").join(t(f"households.field.{f}") for f in fields),
            ),
        }
        for line, v, fields in found.changed
    ]
    return out


def _label(values: RowValues) -> str:
    return " / ".join(p for p in (values.han, values.address, values.contact_name) if p)
