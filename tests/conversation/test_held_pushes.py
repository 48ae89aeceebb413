"""A push never takes away the chips of a conversation in progress: it waits until the
conversation ends (finished or cancelled) or expires, then goes out once. The usability
test saw a volunteer ask replace the chips of the step the resident was answering."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from bot.app import Overrides
from bot.clock import FixedClock
from bot.conversation import held
from bot.conversation.engine import Say
from bot.conversation.models import HeldPush
from bot.db import session_scope
from bot.platform.delivery.models import OutboxMessage
from tests.builders import T0, add_member, make_area, uid
from tests.harness import chips, text_of

NOTICE = "common.help"  # any text will do as the pushed message


def _push(bot: Any, resident_id: int, key: str, *, urgent: bool = False) -> list[int]:
    with session_scope(bot.app.state.engine) as session:
        return bot.app.state.notifier.push(  # type: ignore[no-any-return]
            session,
            bot.app.state.clock.now(),
            key=key,
            kind="test",
            resident_ids=[resident_id],
            says_for=lambda _locale: [Say(NOTICE)],
            urgent=urgent,
        )


def _held(engine: Any) -> list[str]:
    with Session(engine) as session:
        return [row.key for row in session.exec(select(HeldPush))]


def _in_language_flow(bot: Any, user: str) -> dict[str, Any]:
    bot.say(user, "言語")
    question = bot.last(user)
    assert chips(question), "the language question offers chips"
    return question


def test_a_push_waits_for_the_flow_to_end_then_goes_once(bot_factory: Any, engine: Any) -> None:
    (assoc, _) = make_area(engine)
    rid = add_member(engine, assoc, "hanako")
    clock = FixedClock(T0)
    bot = bot_factory(Overrides(clock=clock))
    user = uid("hanako")
    question = _in_language_flow(bot, user)

    assert _push(bot, rid, "approval:1") == [rid]  # counted as reached: it will be
    assert _push(bot, rid, "approval:1") == [rid]  # the same cause twice holds once
    bot.deliver()
    assert bot.last(user) == question  # the chips of the question are still the newest
    assert _held(engine) == [f"approval:1:ja:held:{rid}"]

    bot.tap(user, "English")  # the flow ends: what waited is queued after the reply
    assert _held(engine) == []
    bot.deliver()
    texts = bot.texts_to(user)
    assert texts.count(bot.app.state.content.text(NOTICE)) == 1
    assert texts.index(bot.app.state.content.text(NOTICE)) > texts.index("Language changed.")
    _push(bot, rid, "approval:1")
    bot.deliver()
    assert bot.texts_to(user).count(bot.app.state.content.text(NOTICE)) == 1  # never twice


def test_a_push_waits_for_an_expired_conversation_through_the_release_job(
    bot_factory: Any, engine: Any
) -> None:
    (assoc, _) = make_area(engine)
    rid = add_member(engine, assoc, "hanako")
    clock = FixedClock(T0)
    bot = bot_factory(Overrides(clock=clock))
    user = uid("hanako")
    _in_language_flow(bot, user)
    _push(bot, rid, "offer:7")
    with session_scope(engine) as session:
        assert held.release_job(now=clock.now(), session=session, deps=None) == 0  # still busy
    clock.set(T0 + timedelta(minutes=31))  # the conversation's time is up
    with session_scope(engine) as session:
        assert held.release_job(now=clock.now(), session=session, deps=None) == 1
    bot.deliver()
    assert text_of(bot.last(user)) == bot.app.state.content.text(NOTICE)
    with Session(engine) as session:
        keys = list(session.exec(select(OutboxMessage.key)))
    assert f"offer:7:ja:held:{rid}" in keys


def test_cancelling_the_flow_releases_and_urgent_pushes_do_not_wait(
    bot_factory: Any, engine: Any
) -> None:
    (assoc, _) = make_area(engine)
    rid = add_member(engine, assoc, "hanako")
    bot = bot_factory(Overrides(clock=FixedClock(T0)))
    user = uid("hanako")
    _in_language_flow(bot, user)
    _push(bot, rid, "cancelled-today:1", urgent=True)
    assert _held(engine) == []
    _push(bot, rid, "digest:1")
    assert len(_held(engine)) == 1
    bot.say(user, "キャンセル")
    assert _held(engine) == []
    bot.deliver()
    assert bot.texts_to(user).count(bot.app.state.content.text(NOTICE)) == 2


def test_someone_not_in_a_conversation_gets_the_push_at_once(bot: Any, engine: Any) -> None:
    (assoc, _) = make_area(engine)
    rid = add_member(engine, assoc, "hanako")
    _push(bot, rid, "notice:1")
    assert _held(engine) == []
    bot.deliver()
    assert text_of(bot.last(uid("hanako"))) == bot.app.state.content.text(NOTICE)
