"""Events' figures for the officers' daily digest (the `digest_counts` hook).

Counts only: answers given or changed in the window for the association's upcoming
published events, and how many of them are 参加.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.features.events.models import Event, EventStatus, Rsvp, RsvpAnswer


def counts(
    session: Session, association_id: int, since: datetime, until: datetime
) -> dict[str, int]:
    """`rsvps` (answers given or changed in [since, until)) and `rsvps_going` (of them, going)."""
    rows = session.exec(
        select(Rsvp.answer, func.count())
        .join(Event, col(Event.id) == Rsvp.event_id)
        .where(
            Event.association_id == association_id,
            Event.status == EventStatus.PUBLISHED,
            col(Event.starts_at) >= until,
            col(Rsvp.updated_at) >= since,
            col(Rsvp.updated_at) < until,
        )
        .group_by(Rsvp.answer)
    ).all()
    by_answer = {str(answer): int(n) for answer, n in rows}
    return {"rsvps": sum(by_answer.values()), "rsvps_going": by_answer.get(RsvpAnswer.GOING, 0)}
