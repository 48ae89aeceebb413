"""Helpers for the volunteering tests: volunteers with profiles, opportunities with slots."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.content import Content
from bot.conversation.notifier import Notifier
from bot.db import session_scope
from bot.features.volunteers import messages, volunteers
from bot.features.volunteers.tells import Tell
from bot.platform.delivery.models import OutboxMessage, OutboxRecipient
from bot.settings import Settings
from tests.builders import T0, add_member
from tests.conftest import make_settings
from tests.scheduler_support import CONTENT

# Saturday 5 December 2026, 09:00-11:00 in Tokyo: a weekend morning.
SAT_MORNING = datetime(2026, 12, 5, 0, 0, tzinfo=T0.tzinfo)


def settings_for(db_url: str, **overrides: Any) -> Settings:
    """Settings pointing at the test database (no LINE needed for services)."""
    return make_settings(db_url, "http://127.0.0.1:9", **overrides)


def add_volunteer(
    engine: Engine,
    association_id: int,
    name: str,
    *,
    interests: Sequence[str] = ("bousai",),
    skills: Sequence[str] = (),
    times: Sequence[str] = ("weekend_morning",),
    cap: int = 2,
    reach: str = "association",
    now: datetime = T0,
) -> int:
    """A member with a volunteer profile; returns the resident id."""
    resident_id = add_member(engine, association_id, name)
    with session_scope(engine) as session:
        volunteers.save_profile(
            session,
            resident_id,
            volunteers.ProfileInput(
                interests=interests,
                skills=skills,
                availability=times,
                max_per_month=cap,
                reach=reach,
            ),
            now,
        )
    return resident_id


def add_slot(
    engine: Engine,
    association_id: int,
    *,
    needed: int = 1,
    starts_at: datetime = SAT_MORNING,
    hours: float = 2,
    interests: Sequence[str] = ("bousai",),
    skills: Sequence[str] = (),
    role: str = "防災訓練の受付",
    settings: Settings | None = None,
) -> int:
    """An opportunity in the association with one slot; returns the slot id."""
    with session_scope(engine) as session:
        opportunity = volunteers.create_opportunity(
            session,
            role=role,
            interests=interests,
            needed_skills=skills,
            association_id=association_id,
            now=T0,
            description="受付と案内をお願いします",
        )
        slot = volunteers.add_slot(
            session,
            opportunity_id=int(opportunity.id or 0),
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=hours),
            needed=needed,
            place="第一公民館",
            tz=(settings or settings_for("sqlite://")).tz,
        )
        return int(slot.id or 0)


def pushed_texts(engine: Engine, resident_id: int, kind: str | None = None) -> list[str]:
    """Texts enqueued in the outbox for one resident (optionally of one kind)."""
    with Session(engine) as session:
        query = (
            select(OutboxMessage)
            .join(OutboxRecipient, OutboxRecipient.message_id == OutboxMessage.id)
            .where(OutboxRecipient.resident_id == resident_id)
        )
        if kind:
            query = query.where(OutboxMessage.kind == kind)
        rows = session.exec(query).all()
        return [
            m.get("text") or json.dumps(m, ensure_ascii=False) for row in rows for m in row.messages
        ]


def push_tells(
    session: Session,
    now: datetime,
    told: Iterable[Tell],
    settings: Settings,
    content: Content = CONTENT,
) -> int:
    """Push what a volunteering service said to tell, as its callers (jobs, the flow, staff
    pages) do; returns how many residents were reached."""
    return messages.tell(Notifier.build(content, settings), session, now, told)
