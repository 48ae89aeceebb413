"""Events' part of データ削除: RSVPs stay as counts; the needs note and a proxy's label go."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, update

from bot.features.events.models import Rsvp


def forget_event_answers(session: Session, resident_id: int, now: datetime) -> None:
    """RSVPs stay as counts; the needs note and a proxy's label are personal and go."""
    session.execute(
        update(Rsvp).where(col(Rsvp.resident_id) == resident_id).values(needs="", proxy_label="")
    )
