"""Conversation state per resident, persisted with expiry and an optimistic version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from bot.conversation import held
from bot.conversation.engine import State
from bot.conversation.models import Conversation
from bot.core.models.residents import Resident

# Built once: every message a resident sends reads their state.
_OF_USER = select(Conversation).where(col(Conversation.line_user_id) == bindparam("user_id"))


def load_state(session: Session, user_id: str, now: datetime) -> tuple[State | None, bool]:
    """The resident's live state, and whether an expired one was found (and dropped)."""
    row = session.execute(_OF_USER, {"user_id": user_id}).scalars().first()
    if row is None:
        return None, False
    if row.expires_at <= now:
        session.delete(row)
        session.flush()
        held.release_for_user(session, user_id, now)
        return None, True
    state = State(
        flow=row.flow,
        step=row.step,
        data=dict(row.data),
        history=tuple(row.history),
        expires_at=row.expires_at,
        version=row.version,
    )
    return state, False


def save_state(session: Session, user_id: str, state: State | None, now: datetime) -> None:
    """Store the new state (None clears it). The per-user lane serialises writers."""
    row = session.get(Conversation, user_id)
    if state is None:
        if row is not None:
            session.delete(row)
            session.flush()
            held.release_for_user(session, user_id, now)  # pushes that waited for the end
        return
    if row is None:
        row = Conversation(
            line_user_id=user_id,
            flow=state.flow,
            step=state.step,
            updated_at=now,
            expires_at=state.expires_at,
        )
    row.flow, row.step = state.flow, state.step
    row.data, row.history = dict(state.data), list(state.history)
    row.expires_at, row.updated_at = state.expires_at, now
    row.version = state.version + 1
    session.add(row)


def purge_expired(session: Session, now: datetime) -> int:
    """Drop conversations that expired; a resident coming back is greeted afresh anyway."""
    rows = session.exec(select(Conversation).where(col(Conversation.expires_at) <= now)).all()
    for row in rows:
        session.delete(row)
    return len(rows)


def forget(session: Session, resident_id: int, now: datetime) -> None:
    """Erasure: drop the resident's conversation in progress (before their LINE ID goes)."""
    resident = session.get(Resident, resident_id)
    if resident is not None and resident.line_user_id:
        conversation = session.get(Conversation, resident.line_user_id)
        if conversation is not None:
            session.delete(conversation)
