"""A notice's read coverage as staff see it: per association and 班, LINE and paper together.

Rows come from bot/features/notices/coverage.py and are kept to the associations in the
caller's scope (a notice to a ward may reach associations an officer does not run).
"""

from __future__ import annotations

from sqlmodel import Session, select

from bot.core.models.areas import Association
from bot.core.scope import Scope, association_ids_in_scope
from bot.features.notices import coverage as notice_coverage
from bot.staff.tables import Column, Table

COVERAGE_COLUMNS = [
    Column("association", "col.association"),
    Column("han", "col.han"),
    Column("households", "col.han_households", numeric=True),
    Column("line_households", "col.line_households", numeric=True),
    Column("line_reached", "col.line_reached", numeric=True),
    Column("paper", "col.paper", numeric=True),
    Column("covered", "col.covered", numeric=True),
    Column("rate", "col.coverage_rate", numeric=True),
]


def coverage_table(
    session: Session, scope: Scope, notice_id: int, *, all_hans: str, no_han: str
) -> Table:
    """One row per association (its 班 together, labelled `all_hans`) followed by its 班."""
    allowed = association_ids_in_scope(session, scope)
    names = dict(session.exec(select(Association.id, Association.name)).all())
    rows = []
    for row in notice_coverage.read_coverage(session, notice_id=notice_id, association_ids=allowed):
        if allowed is not None and row.association_id not in allowed:
            continue
        rows.append(
            {
                "association": names.get(row.association_id, "") if row.association_id else "",
                "han": all_hans if row.han is None else (row.han or no_han),
                "households": row.households,
                "line_households": row.line_households,
                "line_reached": row.line_reached,
                "paper": row.paper,
                "covered": row.covered,
                "rate": round(row.rate * 100, 1),
            }
        )
    return Table(f"notice-{notice_id}-coverage", COVERAGE_COLUMNS, rows)
