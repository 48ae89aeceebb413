"""Every 助けが必要 reaches the 班長 as it comes, also after the 班長 was alerted: the household
is on their list and they are told once per change to 助けが必要 (a second tap of the same
answer tells nobody; 無事 then 助けが必要 again, or 助けが必要 after a visit, is told again).
A 班 with no 班長 sends it to the association's officers instead."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from bot.clock import FixedClock
from bot.conversation.jobs import JobDeps
from bot.core.models.han import HanLeader
from bot.db import session_scope
from bot.features.safety import checks, jobs
from bot.features.safety import messages as safety_messages
from bot.features.safety.models import SafetyHousehold
from tests.builders import T0, uid
from tests.features.events.support import notifier_of
from tests.features.safety.support import two_han_town
from tests.harness import chips, clocked_bot, text_of

LEADER, OFFICER = uid("r11"), uid("r23")
HELP_1 = "1班で「助けが必要」と答えた家が"


def _at(bot: Any, engine: Any, clock: FixedClock, minutes: int) -> int:
    """The escalation job at T0 + minutes, then delivery."""
    now = T0 + timedelta(minutes=minutes)
    clock.set(now)
    deps = JobDeps(settings=bot.app.state.settings, notifier=notifier_of(bot))
    with session_scope(engine) as db:
        done = jobs.escalate(now=now, session=db, deps=deps)
    bot.deliver(now)
    return done


def _told(bot: Any, user: str, words: str) -> int:
    return sum(words in t for t in bot.texts_to(user))


def _list_of(bot: Any) -> list[str]:
    bot.tap(LEADER, "訪問する家を見る")
    return list(chips(bot.last(LEADER)))


def test_each_change_to_help_is_told_once_before_and_after_the_alert(
    bot_factory: Any, engine: Any
) -> None:
    town = two_han_town(engine)
    clock = FixedClock(T0)
    bot = clocked_bot(bot_factory, clock)
    with session_scope(engine) as db:
        check = checks.draft(db, area_kind="association", area_id=town.association,
                             template="earthquake", visit_after=30, now=T0)  # fmt: skip
        check_id = int(check.id or 0)
        safety_messages.send_check(notifier_of(bot), db, T0, check_id)
    bot.deliver()

    # Before the set time: 無事 tells nobody; 助けが必要 tells the 班長 at the next run, once.
    bot.tap(uid("r12"), "無事")
    assert _at(bot, engine, clock, 2) == 0
    bot.tap(uid("r13"), "助けが必要")
    assert _at(bot, engine, clock, 6) == 1
    assert _told(bot, LEADER, f"【地震の安否確認】{HELP_1}1軒") == 1
    assert _at(bot, engine, clock, 7) == 0
    bot.tap(uid("r13"), "助けが必要")  # the same answer again: not a change
    assert _at(bot, engine, clock, 8) == 0
    assert _told(bot, LEADER, HELP_1) == 1

    # The set time: the 班長's alert counts it with the unanswered households.
    assert _at(bot, engine, clock, 31) == 1
    assert "1班で確認が必要な家が4軒" in text_of(bot.last(LEADER))
    assert _list_of(bot) == ["未回答 本町1-1 住民11", "助け 本町1-3 住民13",
                             "未回答 本町1-4 住民14", "未回答 本町1-5 住民15"]  # fmt: skip

    # After the alert: 無事 changed to 助けが必要 is told, once, and is on the list.
    clock.set(T0 + timedelta(minutes=40))
    bot.tap(uid("r12"), "助けが必要")
    assert _at(bot, engine, clock, 41) == 1
    assert _told(bot, LEADER, f"{HELP_1}1軒") == 2
    assert _at(bot, engine, clock, 42) == 0
    assert "助け 本町1-2 住民12" in _list_of(bot)

    # The 班長 visits and finds the household safe: off the list. Asking for help again
    # afterwards is a new change: told again, and back on the list.
    bot.tap(LEADER, "助け 本町1-2 住民12")
    bot.tap(LEADER, "無事")
    assert "助け 本町1-2 住民12" not in _list_of(bot)
    assert _at(bot, engine, clock, 45) == 0
    clock.set(T0 + timedelta(minutes=50))
    bot.tap(uid("r12"), "助けが必要")
    assert _at(bot, engine, clock, 51) == 1
    assert _told(bot, LEADER, HELP_1) == 3
    assert "助け 本町1-2 住民12" in _list_of(bot)

    # 助けが必要 → 無事 → 助けが必要 across runs: told again; the same run twice: once.
    clock.set(T0 + timedelta(minutes=55))
    bot.tap(uid("r13"), "無事")
    assert _at(bot, engine, clock, 56) == 0
    clock.set(T0 + timedelta(minutes=57))
    bot.tap(uid("r13"), "助けが必要")
    assert _at(bot, engine, clock, 58) == 1
    assert _at(bot, engine, clock, 58) == 0
    assert _told(bot, LEADER, HELP_1) == 4
    with Session(engine) as db:
        rows = db.exec(select(SafetyHousehold).where(SafetyHousehold.check_id == check_id)).all()
        told = {r.household_id for r in rows if r.help_told_at is not None}
        assert told == {town.households["1-2"], town.households["1-3"]}


def test_help_in_a_han_without_a_leader_goes_to_the_officers(bot_factory: Any, engine: Any) -> None:
    town = two_han_town(engine)
    clock = FixedClock(T0)
    bot = clocked_bot(bot_factory, clock)
    with session_scope(engine) as db:
        leader = db.exec(select(HanLeader).where(HanLeader.han == "2班")).one()
        leader.revoked_at = T0  # the April hand-over left 2班 without a 班長
        db.add(leader)
        check = checks.draft(db, area_kind="association", area_id=town.association,
                             template="earthquake", visit_after=30, now=T0)  # fmt: skip
        safety_messages.send_check(notifier_of(bot), db, T0, int(check.id or 0))
    bot.deliver()
    bot.tap(uid("r22"), "助けが必要")
    assert _at(bot, engine, clock, 3) == 1
    assert _at(bot, engine, clock, 4) == 0
    to_officer = [t for t in bot.texts_to(OFFICER) if "助けが必要" in t and "2班" in t]
    assert len(to_officer) == 1 and "班長がいません" in to_officer[0] and "1軒" in to_officer[0]
    assert _told(bot, uid("r21"), "助けが必要」と答えた家") == 0  # the former 班長
