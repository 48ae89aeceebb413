"""Every domain's part of データ削除, registered with the erasure service in one place."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, update

from bot.core import erasure
from bot.features.events.models import Rsvp
from bot.features.hancho import leaders as hancho
from bot.features.surveys import surveys
from bot.features.volunteers import volunteers


def forget_event_answers(session: Session, resident_id: int, now: datetime) -> None:
    """RSVPs stay as counts; the needs note and a proxy's label are personal and go."""
    session.execute(
        update(Rsvp).where(col(Rsvp.resident_id) == resident_id).values(needs="", proxy_label="")
    )


def install() -> None:
    """Register the erasers (idempotent)."""
    erasure.register_eraser(surveys.forget_resident)
    erasure.register_eraser(volunteers.forget)
    erasure.register_eraser(forget_event_answers)
    erasure.register_eraser(hancho.forget)
