"""Helpers for the events, RSVP and notice tests: an area, members, a clocked bot, the sender."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.app import Overrides
from bot.clock import FixedClock
from bot.content import load_content
from bot.conversation import postback
from bot.conversation.jobs import JobDeps
from bot.conversation.notifier import Notifier
from bot.core.models.areas import Association, District, Ward
from bot.core.models.membership import Membership, MembershipStatus
from bot.core.models.residents import Resident
from bot.db import session_scope
from bot.features.events import events, messages
from bot.features.events.models import Event
from bot.settings import REPO_ROOT
from tests.delivery_support import sender_for
from tests.scheduler_support import settings_for

T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo


def uid(name: str) -> str:
    """A LINE-shaped user id for a test resident."""
    return "U" + name.encode().hex().ljust(32, "0")[:32]


def make_area(engine: Engine, associations: int = 2) -> list[int]:
    """A ward, a district and `associations` associations; returns their ids."""
    with session_scope(engine) as session:
        ward = Ward(code="W1", name="中区")
        session.add(ward)
        session.flush()
        district = District(code="D1", ward_id=int(ward.id or 0), name="第一地区")
        session.add(district)
        session.flush()
        ids = []
        for n in range(associations):
            assoc = Association(
                code=f"A{n}",
                district_id=int(district.id or 0),
                name=f"テスト町内会{n}",
                is_sample=True,
            )
            session.add(assoc)
            session.flush()
            ids.append(int(assoc.id or 0))
    return ids


def add_member(
    engine: Engine,
    association_id: int,
    name: str,
    *,
    locale: str = "ja",
    status: str = MembershipStatus.APPROVED,
) -> int:
    """A resident (LINE user `uid(name)`) with a membership; returns the resident id."""
    with session_scope(engine) as session:
        resident = Resident(line_user_id=uid(name), locale=locale, created_at=T0)
        session.add(resident)
        session.flush()
        session.add(
            Membership(
                resident_id=int(resident.id or 0),
                association_id=association_id,
                status=status,
                applied_at=T0,
            )
        )
        return int(resident.id or 0)


def add_members_bulk(engine: Engine, association_id: int, count: int, prefix: str) -> None:
    """Many members at once (the 1,201-recipient push-count test)."""
    users = [uid(f"{prefix}{n}") for n in range(count)]
    with session_scope(engine) as session:
        session.execute(
            insert(Resident),
            [
                {"line_user_id": u, "locale": "ja", "status": "active", "created_at": T0}
                for u in users
            ],
        )
        ids = (
            session.execute(select(Resident.id).where(Resident.line_user_id.in_(users)))
            .scalars()
            .all()
        )  # type: ignore[union-attr]
        session.execute(
            insert(Membership),
            [
                {
                    "resident_id": rid,
                    "association_id": association_id,
                    "status": "approved",
                    "applied_at": T0,
                }
                for rid in ids
            ],
        )


def add_resident(engine: Engine, name: str, locale: str = "ja") -> int:
    """A resident who follows the bot but belongs to no association."""
    with session_scope(engine) as session:
        resident = Resident(line_user_id=uid(name), locale=locale, created_at=T0)
        session.add(resident)
        session.flush()
        return int(resident.id or 0)


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


def clocked_bot(bot_factory: Any, clock: FixedClock) -> Any:
    """The bot over HTTP with a clock the test moves."""
    return bot_factory(Overrides(clock=clock))


def tap(action: str, **fields: str | int) -> str:
    """Postback data of a button."""
    return postback.encode(a=action, **fields)


def deliver(engine: Engine, standin: Any, settings: Any, now: datetime) -> int:
    """Run the real delivery sender against the stand-in until nothing is due."""

    async def run() -> int:
        sender = sender_for(engine, standin, settings, clock=FixedClock(now))
        try:
            return await sender.send_due()
        finally:
            await sender.gateway.close()  # type: ignore[attr-defined]

    return asyncio.run(run())


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
