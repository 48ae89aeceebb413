"""The join funnel per QR source (bot/features/membership/funnel.py), cut to the caller's scope."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.scope import Scope, association_ids_in_scope
from bot.features.membership import funnel
from bot.features.membership.models import JoinCodeKind
from bot.staff.tables import Column, Table

FUNNEL_COLUMNS = [
    Column("kind", "col.source_kind", labels="source_kind."),
    Column("name", "col.source"),
    Column("follows", "col.follows", numeric=True),
    Column("consented", "col.consented", numeric=True),
    Column("applied", "col.applied", numeric=True),
    Column("approved", "col.approved", numeric=True),
    Column("approved_rate", "col.approved_rate", numeric=True),
]


def funnel_table(session: Session, scope: Scope) -> Table:
    """Funnel rows of the sources in scope: counters by ward, posters by association.

    Campaign codes belong to no ward, so only the city sees them.
    """
    rows = []
    found = funnel.funnel(session)
    found.append(funnel.without_qr(session, association_ids_in_scope(session, scope)))
    for row in found:
        association_id = row.source_id if row.kind == JoinCodeKind.ASSOCIATION else None
        if row.kind != funnel.NO_QR and not scope.covers(
            ward_id=row.ward_id, association_id=association_id
        ):
            continue
        rate = row.rate("approved")
        rows.append(
            {
                "kind": row.kind,
                "name": row.name,
                "follows": row.follows,
                "consented": row.consented,
                "applied": row.applied,
                "approved": row.approved,
                "approved_rate": f"{rate:.0%}" if rate is not None else "",
            }
        )
    return Table("funnel", FUNNEL_COLUMNS, rows)
