"""The overview's numbers: associations in scope with members and pending applications."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.scope import Scope, visible_associations
from bot.features.membership.memberships import associations_without_officer
from bot.features.membership.staff.members import counts_by_association
from bot.staff.tables import Column, Table

OVERVIEW_COLUMNS = [
    Column("ward", "col.ward"),
    Column("district", "col.district"),
    Column("association", "col.association"),
    Column("members", "col.members", numeric=True),
    Column("households", "col.households", numeric=True),
    Column("pending", "col.pending", numeric=True),
    # Whether someone is told of its applications in LINE; "none": ward staff decide them.
    Column("officer", "col.officer", labels="officer_state."),
]


def overview_table(session: Session, scope: Scope) -> Table:
    """One row per association in scope (the page, its CSV and the API all render this)."""
    counts = counts_by_association(session, scope)
    visible = visible_associations(session, scope)
    orphaned = associations_without_officer(session, {a.id for a, _d, _w in visible if a.id})
    rows = []
    for association, district, ward in visible:
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
                "officer": "none" if association.id in orphaned else "linked",
            }
        )
    return Table("overview", OVERVIEW_COLUMNS, rows)
