"""What events tell the volunteers feature (through bot/core/hooks.py, never imported by it).

An organiser may link a volunteer opportunity to an event of its association: the form lists
the upcoming events in the organiser's scope, and the opportunities list names the event.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlmodel import Session, col, select

from bot.core.hooks import EventChoice
from bot.core.scope import Scope
from bot.features.events.models import Event


def _choice(event: Event) -> EventChoice:
    return EventChoice(int(event.id or 0), event.title, event.starts_at, event.association_id)


def upcoming_events(session: Session, scope: Scope, now: datetime, limit: int) -> list[EventChoice]:
    """Events in scope starting after `now` and not cancelled, soonest first."""
    query = (
        select(Event)
        .where(
            scope.association_filter(Event.association_id),
            col(Event.starts_at) > now,
            Event.status != "cancelled",
        )
        .order_by(col(Event.starts_at))
        .limit(limit)
    )
    return [_choice(event) for event in session.exec(query).all()]


def events_by_id(session: Session, event_ids: Collection[int]) -> dict[int, EventChoice]:
    """The events of `event_ids` that exist, by id."""
    query = select(Event).where(col(Event.id).in_(sorted(event_ids)))
    return {int(event.id or 0): _choice(event) for event in session.exec(query).all()}
