"""Residents as LINE users: found or created per event, followed, unfollowed."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from bot.models import Resident, ResidentStatus


def get_or_create(session: Session, line_user_id: str, now: datetime, locale: str) -> Resident:
    """The resident behind a LINE user ID, created on first contact."""
    resident = session.exec(select(Resident).where(Resident.line_user_id == line_user_id)).first()
    if resident is None:
        resident = Resident(line_user_id=line_user_id, locale=locale, created_at=now)
        session.add(resident)
        session.flush()
    return resident


def mark_followed(session: Session, resident: Resident, now: datetime) -> None:
    """The resident added or unblocked the bot: reachable again."""
    resident.status = ResidentStatus.ACTIVE
    resident.followed_at = now
    resident.unfollowed_at = None
    session.add(resident)


def mark_unfollowed(session: Session, resident: Resident, now: datetime) -> None:
    """The resident blocked the bot: LINE will drop pushes, so stop counting them reachable."""
    resident.status = ResidentStatus.BLOCKED
    resident.unfollowed_at = now
    session.add(resident)
