"""Helpers for the events, RSVP and notice tests: an area, members, a clocked bot, the sender."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.content import load_content
from bot.conversation.jobs import JobDeps
from bot.conversation.notifier import Notifier
from bot.db import session_scope
from bot.features.events import events, messages
from bot.features.events.models import Event
from bot.settings import REPO_ROOT
from tests.builders import T0
from tests.scheduler_support import settings_for


def make_event(engine: Engine, **fields: Any) -> int:
    """A published event two days after T0 unless told otherwise; returns its id."""
    fields.setdefault("title", "秋の防災訓練")
    start = fields.pop("starts_at", T0 + timedelta(days=2))
    end = fields.pop("ends_at", start + timedelta(hours=2))
    fields.setdefault("publish", True)
    fields.setdefault("place", "第一公民館")
    with session_scope(engine) as session:
        event = events.create_event(session, starts_at=start, ends_at=end, now=T0, **fields)
        return int(event.id or 0)


def get_event(engine: Engine, event_id: int) -> Event:
    """A detached copy of the event."""
    with Session(engine, expire_on_commit=False) as session:
        event = session.get(Event, event_id)
        assert event is not None
        return event


def notifier_of(bot: Any) -> Notifier:
    """The test bot's Notifier (what its flows and pages push with)."""
    return bot.app.state.notifier  # type: ignore[no-any-return]


def plain_notifier() -> Notifier:
    """A Notifier over the shipped content with test settings, for tests without a bot."""
    return Notifier.build(load_content(REPO_ROOT / "content"), settings_for())


def job_deps(bot: Any) -> JobDeps:
    """Scheduler job dependencies over a test bot's content and settings."""
    return JobDeps.build(bot.app.state.settings, bot.app.state.content)


def edit_event(
    session: Session, notifier: Notifier, *, event_id: int, changes: Any, now: datetime
) -> list[str]:
    """Edit an event as the staff page does (answerers told); returns the fields changed."""
    edit = events.update_event(session, event_id=event_id, changes=changes, now=now)
    messages.tell_edit(notifier, session, now, edit)
    return edit.changed


def cancel_event(session: Session, notifier: Notifier, *, event_id: int, now: datetime) -> int:
    """Cancel an event as the staff page does; returns outbox messages queued to answerers."""
    cancel = events.cancel_event(session, event_id=event_id, now=now)
    return messages.tell_cancelled(notifier, session, now, cancel)
