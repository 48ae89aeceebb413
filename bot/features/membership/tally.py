"""Keeps `membership_tally` in step with `membership`, like a trigger but for both databases.

Every flush that adds, changes or deletes a Membership through the ORM adds its deltas to the
tally rows in the same transaction (an upsert that adds, so concurrent writers never lose a
count; rows are touched in key order so two transactions cannot deadlock on them). Writes
that bypass the unit of work (bulk `update()`/`insert()`, raw SQL) must call `apply_deltas`
themselves, as `services.membership._decide` does, or `rebuild` afterwards.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, event, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot.core.flush_history import values_before_delete, values_before_flush
from bot.core.models.membership import Membership
from bot.features.membership.models import MembershipTally

Key = tuple[int, str]  # (association_id, status)
_TRACKED = ("association_id", "status", "household_size")


def apply_deltas(connection: Connection, deltas: Iterable[tuple[Key, int, int]]) -> None:
    """Add (memberships, people) to each (association, status) row, creating it if needed."""
    merged: dict[Key, list[int]] = {}
    for key, n, people in deltas:
        total = merged.setdefault(key, [0, 0])
        total[0] += n
        total[1] += people
    table = MembershipTally.__table__  # type: ignore[attr-defined]  # SQLModel leaves __table__ undeclared; SQLAlchemy sets it
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    for (association_id, status), (n, people) in sorted(merged.items()):
        if n == 0 and people == 0:
            continue
        stmt = insert(table).values(
            association_id=association_id, status=status, memberships=n, people=people
        )
        connection.execute(
            stmt.on_conflict_do_update(
                index_elements=["association_id", "status"],
                set_={"memberships": table.c.memberships + n, "people": table.c.people + people},
            )
        )


def rebuild(connection: Connection) -> None:
    """Recount every row from `membership` (after bulk loads that bypassed the ORM)."""
    table = MembershipTally.__table__  # type: ignore[attr-defined]  # SQLModel leaves __table__ undeclared; SQLAlchemy sets it
    m = Membership.__table__  # type: ignore[attr-defined]  # SQLModel leaves __table__ undeclared; SQLAlchemy sets it
    connection.execute(delete(table))
    connection.execute(
        table.insert().from_select(
            ["association_id", "status", "memberships", "people"],
            select(
                m.c.association_id,
                m.c.status,
                func.count(),
                func.coalesce(func.sum(m.c.household_size), 0),
            ).group_by(m.c.association_id, m.c.status),
        )
    )


def _values(row: Membership) -> tuple[int, str, int]:
    return int(row.association_id), str(row.status), int(row.household_size or 0)


def _as_key(values: dict[str, Any]) -> tuple[int, str, int]:
    return int(values["association_id"]), str(values["status"]), int(values["household_size"] or 0)


@event.listens_for(Session, "before_flush")
def _track_memberships(session: Session, _context: object, _instances: object) -> None:
    deltas: Counter[tuple[Key, str]] = Counter()

    def add(values: tuple[int, str, int], sign: int) -> None:
        association_id, status, people = values
        deltas[((association_id, status), "n")] += sign
        deltas[((association_id, status), "people")] += sign * people

    for row in session.new:
        if isinstance(row, Membership):
            add(_values(row), +1)
    for row in session.dirty:
        if isinstance(row, Membership) and session.is_modified(row):
            stored = values_before_flush(session, row, _TRACKED)
            if stored is not None and _as_key(stored) != _values(row):
                add(_as_key(stored), -1)
                add(_values(row), +1)
    for row in session.deleted:
        if isinstance(row, Membership):
            add(_as_key(values_before_delete(row, _TRACKED)), -1)
    if deltas:
        keys = {key for key, _kind in deltas}
        apply_deltas(
            session.connection(),
            [(key, deltas[(key, "n")], deltas[(key, "people")]) for key in keys],
        )
