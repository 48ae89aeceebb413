"""Participation diversity: first-timers and newcomers per event, and how concentrated it is.

Counts only. "First-time" means the resident had checked in at no earlier event anywhere;
"newcomer" means the resident first arrived through a moving-in counter's QR code within
two years before the event (the counter scan stands in for the moving-in date).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from sqlalchemy import select as core_select
from sqlmodel import Session, col, func, select

from bot.clock import as_utc
from bot.core import hooks
from bot.core.scope import Scope
from bot.features.events import attendance_tally
from bot.features.events.models import (
    AttendanceTally,
    CheckIn,
    Event,
    EventAttendance,
    EventStatus,
    WalkIn,
)
from bot.staff.tables import Column, Table

NEWCOMER_WINDOW = timedelta(days=730)
BUSIEST_SHARE = 0.10
LIST_LIMIT = 200

DIVERSITY_COLUMNS = [
    Column("starts_at", "col.starts_at"),
    Column("title", "col.title"),
    Column("checked_in", "col.checked_in", numeric=True),
    Column("first_timers", "col.first_timers", numeric=True),
    Column("newcomers", "col.newcomers", numeric=True),
    Column("walk_ins", "event_ops.col_walk_ins", numeric=True),
]


def diversity_table(session: Session, scope: Scope, tz: tzinfo) -> Table:
    """Per published event in scope: checked in, of them first-timers and newcomers."""
    # Check-ins and first-timers per event are kept counted (bot/features/events/
    # attendance_tally.py): reading every check-in's history here took seconds at scale.
    events = session.execute(
        core_select(
            col(Event.id),
            col(Event.starts_at),
            col(Event.title),
            col(EventAttendance.checked_in),
            col(EventAttendance.first_timers),
        )
        .join(EventAttendance, col(EventAttendance.event_id) == col(Event.id))
        .where(
            col(Event.status) == EventStatus.PUBLISHED,
            scope.association_filter(Event.association_id),
            col(EventAttendance.checked_in) > 0,
        )
        .order_by(col(Event.starts_at).desc())
        .limit(LIST_LIMIT)
    ).all()
    newcomers = _newcomers(session, {int(e[0]): e[1] for e in events})
    walk_ins = _walk_ins(session, scope)
    found = {
        int(event_id): (starts, title, int(n), int(first or 0))
        for event_id, starts, title, n, first in events
    }
    # Events where only walk-ins came are participation too (nobody scanned the QR).
    for event_id, (starts, title, _people) in walk_ins.items():
        found.setdefault(event_id, (starts, title, 0, 0))
    ordered = sorted(found.items(), key=lambda item: (as_utc(item[1][0]), item[0]), reverse=True)
    rows = [
        {
            "event_id": event_id,
            "starts_at": starts.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            "title": title,
            "checked_in": n,
            "first_timers": first,
            "newcomers": newcomers.get(event_id, 0),
            "walk_ins": walk_ins.get(event_id, (starts, title, 0))[2],
        }
        for event_id, (starts, title, n, first) in ordered[:LIST_LIMIT]
    ]
    return Table("participation-diversity", DIVERSITY_COLUMNS, rows)


def _walk_ins(session: Session, scope: Scope) -> dict[int, tuple[datetime, str, int]]:
    """People counted at the door (no names) per published event in scope."""
    found = session.execute(
        core_select(
            col(Event.id),
            col(Event.starts_at),
            col(Event.title),
            func.sum(col(WalkIn.adults) + col(WalkIn.children)),
        )
        .join(WalkIn, col(WalkIn.event_id) == col(Event.id))
        .where(
            col(Event.status) == EventStatus.PUBLISHED,
            scope.association_filter(Event.association_id),
        )
        .group_by(col(Event.id), col(Event.starts_at), col(Event.title))
        .order_by(col(Event.starts_at).desc())
        .limit(LIST_LIMIT)
    ).all()
    return {int(e): (starts, title, int(n or 0)) for e, starts, title, n in found}


def _newcomers(session: Session, starts: dict[int, datetime]) -> dict[int, int]:
    # Date arithmetic differs between SQLite and PostgreSQL, so the window is applied here.
    if not starts:
        return {}
    # How residents arrived is the membership feature's to say (its join QR codes). Every
    # counter arrival, then the events' check-ins of those residents only: listing the
    # events' attendees first (tens of thousands at full size) cost more than the answer.
    arrivals = hooks.ask_counter_arrivals(session, None)
    out: dict[int, int] = {}
    arrived = sorted(arrivals)
    checkins = [
        row
        for start in range(0, len(arrived), 1000)
        for row in session.exec(
            select(CheckIn.event_id, CheckIn.resident_id).where(
                col(CheckIn.event_id).in_(list(starts)),
                col(CheckIn.resident_id).in_(arrived[start : start + 1000]),
            )
        ).all()
    ]
    for event_id, resident_id in checkins:
        came, start = as_utc(arrivals[resident_id]), as_utc(starts[int(event_id)])
        if start - NEWCOMER_WINDOW < came <= start:
            out[int(event_id)] = out.get(int(event_id), 0) + 1
    return out


def busiest_share(session: Session, scope: Scope) -> tuple[float | None, int, int]:
    """Share of all check-ins in scope made by the busiest 10% of participants.

    Returns (share or None when nobody attended, participants, attendances). Read from the
    per-resident tally (bot/features/events/attendance_tally.py), not from every check-in.
    """
    return attendance_tally.busiest_share(
        session, scope.association_filter(AttendanceTally.association_key), BUSIEST_SHARE
    )
