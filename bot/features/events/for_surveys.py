"""What events tell the surveys feature (through bot/core/hooks.py, never imported by it).

A post-event survey opens a wave a few hours after an event that people came to, and asks
those who checked in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from bot.core.hooks import EndedEvent
from bot.features.events.models import CheckIn, Event, EventStatus


def ended_events(session: Session, since: datetime, until: datetime) -> list[EndedEvent]:
    """Published events with at least one check-in that ended between `since` and `until`."""
    rows = session.execute(
        select(col(Event.id), col(Event.title), col(Event.ends_at))
        .where(
            col(Event.status) == EventStatus.PUBLISHED,
            col(Event.ends_at) <= until,
            col(Event.ends_at) >= since,
            select(col(CheckIn.id)).where(col(CheckIn.event_id) == col(Event.id)).exists(),
        )
        .order_by(col(Event.id))
    ).all()
    return [EndedEvent(int(eid), str(title), ends_at) for eid, title, ends_at in rows]


def checked_in(session: Session, event_id: int) -> list[int]:
    """Residents checked in at the event (the post-event question's audience)."""
    rows = session.execute(
        select(col(CheckIn.resident_id))
        .where(col(CheckIn.event_id) == event_id)
        .order_by(col(CheckIn.resident_id))
    ).scalars()
    return [int(r) for r in rows]
