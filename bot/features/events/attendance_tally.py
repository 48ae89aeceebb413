"""Keeps `attendance_tally` and `event_attendance` in step with `check_in` and events' starts.

A check-in added through the ORM, in the same flush: one more for its resident's row of the
event's association (an upsert that adds and keeps the earlier start, so concurrent check-ins
never lose a count) and for the event's row; when it is the resident's first event (no
earlier start in their rows), one more first-timer for the event, and one fewer for the
events that were their first until now (a later-entered earlier event moves it). Anything
rarer (a check-in deleted, an event's start or association changed) recounts the residents
it touches, and their events, from `check_in` after the flush. Writes that bypass the unit
of work must call `recount` or `rebuild` themselves.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from sqlalchemy import case, delete, event, func, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.clock import as_utc
from bot.features.events.models import AttendanceTally, CheckIn, Event, EventAttendance

_PENDING = "events.attendance_recount"  # session.info key: residents to recount after flush
_LOST = "events.attendance_lost"  # and events that lost a check-in


def _table() -> Any:
    return AttendanceTally.__table__  # type: ignore[attr-defined]  # SQLModel leaves __table__ undeclared


def _events_table() -> Any:
    return EventAttendance.__table__  # type: ignore[attr-defined]  # SQLModel leaves __table__ undeclared


def _per_event(event_filter: ColumnElement[bool] | None = None) -> Any:
    """(event, checked in, first-timers) per event with check-ins, from `check_in` and the
    residents' tally rows (a first-timer has no row starting before the event)."""
    c, e, t = CheckIn.__table__, Event.__table__, _table()  # type: ignore[attr-defined]
    earlier = (
        select(t.c.resident_id)
        .where(t.c.resident_id == c.c.resident_id, t.c.first_starts_at < e.c.starts_at)
        .exists()
    )
    query = (
        select(e.c.id, func.count(), func.sum(case((~earlier, 1), else_=0)))
        .select_from(e.join(c, c.c.event_id == e.c.id))
        .group_by(e.c.id)
    )
    return query if event_filter is None else query.where(event_filter)


def _counted(resident_filter: ColumnElement[bool] | None = None) -> Any:
    """(resident, association key, attended, first start) per resident and host association."""
    c, e = CheckIn.__table__, Event.__table__  # type: ignore[attr-defined]
    key = func.coalesce(e.c.association_id, 0)
    query = (
        select(c.c.resident_id, key, func.count(), func.min(e.c.starts_at))
        .select_from(c.join(e, e.c.id == c.c.event_id))
        .group_by(c.c.resident_id, key)
    )
    return query if resident_filter is None else query.where(resident_filter)


def rebuild(connection: Connection) -> None:
    """Recount every row from `check_in` (after bulk loads that bypassed the ORM)."""
    table = _table()
    connection.execute(delete(table))
    connection.execute(
        table.insert().from_select(
            ["resident_id", "association_key", "attended", "first_starts_at"], _counted()
        )
    )
    events = _events_table()
    connection.execute(delete(events))
    connection.execute(
        events.insert().from_select(["event_id", "checked_in", "first_timers"], _per_event())
    )


def recount_events(connection: Connection, event_ids: Iterable[int]) -> None:
    """Recount these events' rows from `check_in` and the (already recounted) tally."""
    ids = sorted({int(i) for i in event_ids})
    events, e = _events_table(), Event.__table__  # type: ignore[attr-defined]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        connection.execute(delete(events).where(events.c.event_id.in_(chunk)))
        connection.execute(
            events.insert().from_select(
                ["event_id", "checked_in", "first_timers"], _per_event(e.c.id.in_(chunk))
            )
        )


def recount(
    connection: Connection, resident_ids: Iterable[int], event_ids: Iterable[int] = ()
) -> None:
    """Recount these residents' rows from `check_in`, then the rows of every event they
    attended and of `event_ids` (events that lost a check-in)."""
    ids = sorted({int(i) for i in resident_ids})
    if not ids:
        return
    table, c = _table(), CheckIn.__table__  # type: ignore[attr-defined]
    touched = set(event_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        connection.execute(delete(table).where(table.c.resident_id.in_(chunk)))
        connection.execute(
            table.insert().from_select(
                ["resident_id", "association_key", "attended", "first_starts_at"],
                _counted(c.c.resident_id.in_(chunk)),
            )
        )
        touched.update(
            int(e)
            for e in connection.execute(
                select(c.c.event_id).where(c.c.resident_id.in_(chunk)).distinct()
            ).scalars()
        )
    recount_events(connection, touched)


def add_attendance(connection: Connection, resident_id: int, held: Event) -> None:
    """One more check-in of the resident at `held` (before its check_in row is written)."""
    table, events = _table(), _events_table()
    c, e = CheckIn.__table__, Event.__table__  # type: ignore[attr-defined]
    starts_at = held.starts_at
    first = connection.execute(
        select(func.min(table.c.first_starts_at)).where(table.c.resident_id == resident_id)
    ).scalar()
    first = as_utc(first) if first is not None else None
    firsts: list[tuple[int, int]] = []  # (event, change of its first-timers)
    if first is None or starts_at <= first:
        firsts.append((int(held.id or 0), 1))
    if first is not None and starts_at < first:
        # Their first event(s) until now are first no longer.
        firsts += [
            (int(event_id), -1)
            for event_id in connection.execute(
                select(c.c.event_id)
                .select_from(c.join(e, e.c.id == c.c.event_id))
                .where(c.c.resident_id == resident_id, e.c.starts_at == first)
            ).scalars()
        ]
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    for event_id, more in sorted({int(held.id or 0): 0, **dict(firsts)}.items()):
        count = 1 if event_id == held.id else 0
        if count == 0 and more == 0:
            continue
        up = insert(events).values(event_id=event_id, checked_in=count, first_timers=more)
        connection.execute(
            up.on_conflict_do_update(
                index_elements=["event_id"],
                set_={
                    "checked_in": events.c.checked_in + count,
                    "first_timers": events.c.first_timers + more,
                },
            )
        )
    association_id = held.association_id
    stmt = insert(table).values(
        resident_id=resident_id,
        association_key=association_id or 0,
        attended=1,
        first_starts_at=starts_at,
    )
    connection.execute(
        stmt.on_conflict_do_update(
            index_elements=["resident_id", "association_key"],
            set_={
                "attended": table.c.attended + 1,
                "first_starts_at": case(
                    (
                        stmt.excluded.first_starts_at < table.c.first_starts_at,
                        stmt.excluded.first_starts_at,
                    ),
                    else_=table.c.first_starts_at,
                ),
            },
        )
    )


def busiest_share(
    session: Any, in_scope: ColumnElement[bool], share: float
) -> tuple[float | None, int, int]:
    """Share of all attendances in scope made by the busiest `share` of participants.

    `in_scope` filters `AttendanceTally.association_key`. Returns (share or None when nobody
    attended, participants, attendances); read as a histogram (attendances → residents), so
    only a few dozen rows leave the database.
    """
    table = _table()
    per_resident = (
        select(func.sum(table.c.attended).label("n"))
        .where(in_scope)
        .group_by(table.c.resident_id)
        .subquery()
    )
    histogram = session.execute(
        select(per_resident.c.n, func.count()).group_by(per_resident.c.n)
    ).all()
    counts = sorted(((int(n), int(k)) for n, k in histogram), reverse=True)
    people = sum(k for _n, k in counts)
    total = sum(n * k for n, k in counts)
    if not total:
        return None, 0, 0
    left, top = max(1, math.ceil(people * share)), 0
    for n, k in counts:  # the busiest first, as many of each count as are still wanted
        taken = min(k, left)
        top += n * taken
        left -= taken
        if not left:
            break
    return top / total, people, total


@event.listens_for(Session, "before_flush")
def _track(session: Session, _context: object, _instances: object) -> None:
    connection: Connection | None = None
    for row in session.new:
        if isinstance(row, CheckIn):
            held = session.get(Event, row.event_id)
            if held is None:  # an unknown event: the insert fails on its foreign key anyway
                continue
            connection = connection or session.connection()
            add_attendance(connection, row.resident_id, held)
    pending: set[int] = session.info.setdefault(_PENDING, set())
    lost: set[int] = session.info.setdefault(_LOST, set())
    for row in session.deleted:
        if isinstance(row, CheckIn):
            pending.add(int(row.resident_id))
            lost.add(int(row.event_id))
    for row in session.dirty:
        if isinstance(row, Event) and row.id is not None:
            state: Any = inspect(row)
            moved = any(
                state.attrs[name].history.has_changes() for name in ("starts_at", "association_id")
            )
            if moved:
                c = CheckIn.__table__  # type: ignore[attr-defined]
                pending.update(
                    int(r)
                    for r in session.connection()
                    .execute(select(c.c.resident_id).where(c.c.event_id == row.id))
                    .scalars()
                )


@event.listens_for(Session, "after_flush")
def _recount(session: Session, _context: object) -> None:
    pending: set[int] | None = session.info.pop(_PENDING, None)
    lost: set[int] = session.info.pop(_LOST, set())
    if pending:
        recount(session.connection(), pending, lost)
