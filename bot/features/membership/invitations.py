"""Gentle invitations to join, for subscribers: at most one per interval per resident."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.features.membership.models import JoinInvitation


def due(session: Session, resident_id: int, now: datetime, interval_days: float) -> bool:
    """True when the resident was never invited, or not within the interval."""
    row = session.get(JoinInvitation, resident_id)
    return row is None or row.last_invited_at <= now - timedelta(days=interval_days)


def note(session: Session, resident_id: int, now: datetime) -> None:
    """Remember an invitation (or a declined consent, which counts as one)."""
    row = session.get(JoinInvitation, resident_id) or JoinInvitation(
        resident_id=resident_id, last_invited_at=now
    )
    row.last_invited_at, row.times = now, row.times + 1
    session.add(row)


def forget(session: Session, resident_id: int, now: datetime) -> None:
    """Erasure: forget when the resident was last invited to join."""
    row = session.get(JoinInvitation, resident_id)
    if row is not None:
        session.delete(row)
