"""Participation diversity: first-timers and newcomers per event, and how concentrated it is.

Counts only. "First-time" means the resident had checked in at no earlier event anywhere;
"newcomer" means the resident first arrived through a moving-in counter's QR code within
two years before the event (the counter scan stands in for the moving-in date).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import case, exists
from sqlalchemy import select as core_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from bot.clock import as_utc
from bot.core import hooks
from bot.core.scope import Scope
from bot.features.events.models import CheckIn, Event, EventStatus, WalkIn
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


def _first_time_count() -> Any:
    earlier_checkin, earlier_event = aliased(CheckIn), aliased(Event)
    earlier = exists().where(
        col(earlier_checkin.resident_id) == col(CheckIn.resident_id),
        col(earlier_checkin.event_id) == col(earlier_event.id),
        col(earlier_event.starts_at) < col(Event.starts_at),
    )
    return func.sum(case((~earlier, 1), else_=0))


def diversity_table(session: Session, scope: Scope, tz: tzinfo) -> Table:
    """Per published event in scope: checked in, of them first-timers and newcomers."""
    # The latest events with check-ins first, then first-timers for their check-ins only:
    # counting them for every check-in of the city before the limit took seconds at scale.
    latest = (
        core_select(col(Event.id))
        .where(
            col(Event.status) == EventStatus.PUBLISHED,
            scope.association_filter(Event.association_id),
            exists().where(col(CheckIn.event_id) == col(Event.id)),
        )
        .order_by(col(Event.starts_at).desc())
        .limit(LIST_LIMIT)
        .scalar_subquery()
    )
    events = session.execute(
        core_select(
            col(Event.id), col(Event.starts_at), col(Event.title), func.count(), _first_time_count()
        )
        .join(CheckIn, col(CheckIn.event_id) == col(Event.id))
        .where(col(Event.id).in_(latest))
        .group_by(col(Event.id), col(Event.starts_at), col(Event.title))
        .order_by(col(Event.starts_at).desc())
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
    attended = session.exec(
        select(CheckIn.resident_id).where(col(CheckIn.event_id).in_(list(starts))).distinct()
    ).all()
    # How residents arrived is the membership feature's to say (its join QR codes).
    arrivals = hooks.ask_counter_arrivals(session, [int(r) for r in attended])
    out: dict[int, int] = {}
    checkins = session.exec(
        select(CheckIn.event_id, CheckIn.resident_id).where(
            col(CheckIn.event_id).in_(list(starts)), col(CheckIn.resident_id).in_(list(arrivals))
        )
    ).all()
    for event_id, resident_id in checkins:
        arrived, start = as_utc(arrivals[resident_id]), as_utc(starts[int(event_id)])
        if start - NEWCOMER_WINDOW < arrived <= start:
            out[int(event_id)] = out.get(int(event_id), 0) + 1
    return out


def busiest_share(session: Session, scope: Scope) -> tuple[float | None, int, int]:
    """Share of all check-ins in scope made by the busiest 10% of participants.

    Returns (share or None when nobody attended, participants, attendances).
    """
    per_resident = session.exec(
        select(func.count())
        .select_from(CheckIn)
        .join(Event, col(Event.id) == col(CheckIn.event_id))
        .where(scope.association_filter(Event.association_id))
        .group_by(col(CheckIn.resident_id))
    ).all()
    counts = sorted((int(n) for n in per_resident), reverse=True)
    total = sum(counts)
    if not total:
        return None, 0, 0
    top = max(1, math.ceil(len(counts) * BUSIEST_SHARE))
    return sum(counts[:top]) / total, len(counts), total
