"""The overview's numbers: associations in scope with members and pending applications."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.scope import Scope, visible_associations
from bot.features.membership.staff.members import counts_by_association
from bot.staff.tables import Column, Table

OVERVIEW_COLUMNS = [
    Column("ward", "col.ward"),
    Column("district", "col.district"),
    Column("association", "col.association"),
    Column("members", "col.members", numeric=True),
    Column("households", "col.households", numeric=True),
    Column("pending", "col.pending", numeric=True),
]


def overview_table(session: Session, scope: Scope) -> Table:
    """One row per association in scope (the page, its CSV and the API all render this)."""
    counts = counts_by_association(session, scope)
    rows = []
    for association, district, ward in visible_associations(session, scope):
        numbers = counts.get(association.id or 0)
        rows.append(
            {
                "association_id": association.id,
                "ward": ward.name,
                "district": district.name,
                "association": association.name,
                "members": numbers.members if numbers else 0,
                "households": numbers.households if numbers else 0,
                "pending": numbers.pending if numbers else 0,
            }
        )
    return Table("overview", OVERVIEW_COLUMNS, rows)
