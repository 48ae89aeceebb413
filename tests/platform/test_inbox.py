"""The inbox's guard against handling one event twice, seen from two processors at once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot.clock import SystemClock
from bot.content import load_content
from bot.conversation.notifier import Notifier
from bot.conversation.processor import Processor
from bot.conversation.render import Renderer
from bot.conversation.runner import Runner
from bot.core.models.residents import Resident
from bot.platform import inbox
from bot.platform.inbox_models import InboxStatus, WebhookEvent
from bot.settings import REPO_ROOT
from bot.wiring import build_registry
from tests.conftest import make_settings
from tests.factories import follow_event

ALICE = "U" + "a" * 32
CONTENT = load_content(REPO_ROOT / "content")


def _processor(engine: Engine) -> Processor:
    """A processor as the worker builds one; these tests never send, so no gateway."""
    settings = make_settings(str(engine.url), "http://127.0.0.1:9")
    renderer = Renderer(CONTENT)
    return Processor(
        engine=engine,
        settings=settings,
        content=CONTENT,
        runner=Runner(build_registry(), renderer),
        notifier=Notifier.over(renderer, settings),
        gateway=None,  # type: ignore[arg-type]
        clock=SystemClock(),
    )


def test_finish_refuses_an_event_another_transaction_finished(engine: Engine) -> None:
    [(seq, _)] = inbox.store_events(engine, [follow_event(ALICE)], datetime.now(UTC))
    now = datetime.now(UTC)
    with Session(engine) as first:
        assert inbox.take(first, seq) is not None
        first.rollback()  # let the other process take the row on PostgreSQL too
        with Session(engine) as other:
            assert inbox.take(other, seq) is not None
            inbox.finish(other, seq, InboxStatus.DONE, now, "done")
            other.commit()
        with pytest.raises(inbox.AlreadyHandled):
            inbox.finish(first, seq, InboxStatus.DONE, now, "done")


def test_an_event_two_processors_take_at_once_has_one_effect(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second processor handles the event while the first holds it: on PostgreSQL the row
    lock makes it skip; on SQLite (no row locks) the first one's effects are rolled back."""
    [(seq, _)] = inbox.store_events(engine, [follow_event(ALICE)], datetime.now(UTC))
    first, second = _processor(engine), _processor(engine)
    take = inbox.take
    meanwhile: list[Any] = []

    def take_then_race(session: Session, taken_seq: int) -> inbox.TakenEvent | None:
        taken = take(session, taken_seq)
        monkeypatch.setattr(inbox, "take", take)  # the second processor takes plainly
        meanwhile.append(second._handle_in_transaction(taken_seq, None, True))
        return taken

    monkeypatch.setattr(inbox, "take", take_then_race)
    replies = [first._handle_in_transaction(seq, None, True), *meanwhile]

    assert sum(reply is not None for reply in replies) == 1
    with Session(engine) as session:
        row = session.get(WebhookEvent, seq)
        assert row is not None and row.status == InboxStatus.DONE and row.attempts == 1
        assert session.exec(select(func.count()).select_from(Resident)).one() == 1
