"""見守り through LINE: a member living alone opts in (its own consent), picks a weekday and
time and their 班長, who accepts; a missed check-in tells the 班長 once, then the officer
once; an answered week tells nobody; a pause skips a week; stopping ends it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from bot.clock import FixedClock
from bot.conversation.jobs import JobDeps
from bot.db import session_scope
from bot.features.mimamori import jobs
from bot.features.mimamori.checkin_flow import MimamoriAccept
from bot.features.mimamori.models import MimamoriCheckin, MimamoriWatch
from tests.builders import T0, uid
from tests.features.events.support import notifier_of
from tests.features.safety.support import two_han_town
from tests.harness import clocked_bot, text_of

WED = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # Wednesday 10:00 in Tokyo
RESIDENT, LEADER, OFFICER = uid("r13"), uid("r11"), uid("r23")


def _run(bot: Any, engine: Any, at: datetime) -> int:
    deps = JobDeps(settings=bot.app.state.settings, notifier=notifier_of(bot))
    with session_scope(engine) as db:
        sent = jobs.run(now=at, session=db, deps=deps)
    bot.deliver(at)
    return sent


def _open_mimamori(bot: Any) -> None:
    """The resident opens 見守り from the menu, as they would."""
    bot.say(RESIDENT, "メニュー")
    bot.tap(RESIDENT, "わたしの町内会")
    bot.tap(RESIDENT, "見守り")


def _watched_by_the_hancho(bot: Any) -> None:
    """Signed up for Wednesdays at 10:00 with their 班長, who has accepted."""
    _open_mimamori(bot)
    for label in ("申し込む", "同意する", "水曜日", "10:00", "班長（1班）"):
        bot.tap(RESIDENT, label)
    bot.deliver()
    bot.tap(LEADER, "引き受ける")


def _told(bot: Any, user: str, words: str) -> int:
    return sum(words in t for t in bot.texts_to(user))


def test_missed_checkin_tells_the_hancho_once_then_the_officer(
    bot_factory: Any, engine: Any
) -> None:
    two_han_town(engine)
    clock = FixedClock(T0)
    bot = clocked_bot(bot_factory, clock)
    _open_mimamori(bot)
    assert "週に1回" in text_of(bot.last(RESIDENT))
    bot.tap(RESIDENT, "申し込む")
    assert "見守りについての同意" in text_of(bot.last(RESIDENT))
    bot.tap(RESIDENT, "同意する")
    bot.tap(RESIDENT, "水曜日")
    bot.tap(RESIDENT, "10:00")
    bot.tap(RESIDENT, "班長（1班）")
    assert "班長（1班）が引き受けると" in text_of(bot.last(RESIDENT))
    bot.deliver()
    assert "本町1-3 住民13さんが、週1回（水曜日 10:00）" in text_of(bot.last(LEADER))
    bot.tap(LEADER, "引き受ける")
    bot.deliver()
    assert "引き受けてくれました" in text_of(bot.last(RESIDENT))
    with Session(engine) as db:
        watch = db.exec(select(MimamoriWatch)).one()
        assert watch.consent_version == "2026-12-06" and watch.watcher_accepted_at is not None

    # Week 1: no answer. 班長 after the grace (6 h), once; the officer after twice it, once.
    assert _run(bot, engine, WED - timedelta(minutes=1)) == 0
    assert _run(bot, engine, WED + timedelta(minutes=1)) == 1
    assert "今週もお元気ですか" in text_of(bot.last(RESIDENT))
    assert _run(bot, engine, WED + timedelta(hours=5)) == 0
    assert _run(bot, engine, WED + timedelta(hours=6, minutes=1)) == 1
    assert _run(bot, engine, WED + timedelta(hours=7)) == 0
    assert _told(bot, LEADER, "【見守り】本町1-3 住民13さんから、12月2日 10:00") == 1
    assert _told(bot, OFFICER, "【見守り】") == 0
    assert _run(bot, engine, WED + timedelta(hours=12, minutes=1)) == 1
    assert _run(bot, engine, WED + timedelta(hours=13)) == 0
    assert _told(bot, OFFICER, "見守りの人からも確認の連絡がありません") == 1
    assert _told(bot, LEADER, "【見守り】") == 1

    # Week 2: one tap answers; nobody is told.
    week2 = WED + timedelta(days=7)
    assert _run(bot, engine, week2 + timedelta(minutes=1)) == 1
    clock.set(week2 + timedelta(minutes=30))
    bot.tap(RESIDENT, "元気です")
    assert "また来週" in text_of(bot.last(RESIDENT))
    assert _run(bot, engine, week2 + timedelta(hours=13)) == 0
    assert _told(bot, LEADER, "【見守り】") == 1 and _told(bot, OFFICER, "【見守り】") == 1

    # A pause for travel skips week 3; stopping ends the watch.
    _open_mimamori(bot)
    bot.tap(RESIDENT, "14日休む")
    assert "休みます" in text_of(bot.last(RESIDENT))
    assert _run(bot, engine, WED + timedelta(days=14, minutes=1)) == 0
    _open_mimamori(bot)
    assert "休んでいます" in text_of(bot.last(RESIDENT))
    bot.tap(RESIDENT, "見守りをやめる")
    assert "見守りをやめました" in text_of(bot.last(RESIDENT))
    assert _run(bot, engine, WED + timedelta(days=21, minutes=1)) == 0
    with Session(engine) as db:
        assert db.exec(select(MimamoriWatch)).one().ended_at is not None
        assert len(db.exec(select(MimamoriCheckin)).all()) == 2


def test_only_the_named_person_may_accept(bot_factory: Any, engine: Any) -> None:
    two_han_town(engine)
    bot = clocked_bot(bot_factory, FixedClock(T0))
    _open_mimamori(bot)
    bot.tap(RESIDENT, "申し込む")
    bot.tap(RESIDENT, "同意しない")
    assert "申し込みませんでした" in text_of(bot.last(RESIDENT))
    with Session(engine) as db:
        assert db.exec(select(MimamoriWatch)).all() == []


def test_nothing_is_sent_until_the_named_person_accepts(bot_factory: Any, engine: Any) -> None:
    """A check-in needs a 見守り person who accepted: before that, and after a decline,
    nothing is sent; a tap on the accept button by anyone else changes nothing."""
    two_han_town(engine)
    clock = FixedClock(T0)
    bot = clocked_bot(bot_factory, clock)
    _open_mimamori(bot)
    bot.tap(RESIDENT, "申し込む")
    bot.tap(RESIDENT, "同意する")
    bot.tap(RESIDENT, "水曜日")
    bot.tap(RESIDENT, "10:00")
    bot.tap(RESIDENT, "班長（1班）")
    bot.deliver()
    with Session(engine) as db:
        watch_id = int(db.exec(select(MimamoriWatch.id)).one() or 0)
    assert _run(bot, engine, WED + timedelta(minutes=1)) == 0  # not accepted yet
    bot.press(uid("r12"), MimamoriAccept(watch_id, 1).encode())  # not the named person
    assert "もう終わっています" in text_of(bot.last(uid("r12")))
    _open_mimamori(bot)
    assert "返事を待っています" in text_of(bot.last(RESIDENT))
    with Session(engine) as db:
        assert db.exec(select(MimamoriWatch)).one().watcher_accepted_at is None

    bot.tap(LEADER, "断る")
    bot.deliver()
    assert "ご本人にお伝えします" in text_of(bot.last(LEADER))  # the 断る button works
    assert "引き受けられませんでした" in text_of(bot.last(RESIDENT))
    assert _run(bot, engine, WED + timedelta(days=7, minutes=1)) == 0
    bot.tap(LEADER, "引き受ける")  # too late: the role went back when declined
    assert "もう終わっています" in text_of(bot.last(LEADER))
    with Session(engine) as db:
        watch = db.exec(select(MimamoriWatch)).one()
        assert (watch.watcher_id, watch.watcher_accepted_at) == (None, None)
        assert db.exec(select(MimamoriCheckin)).all() == []


def test_a_paused_resident_resumes_in_line(bot_factory: Any, engine: Any) -> None:
    """Pause for travel, then resume: the next week's check-in comes again."""
    two_han_town(engine)
    clock = FixedClock(T0)
    bot = clocked_bot(bot_factory, clock)
    _watched_by_the_hancho(bot)
    _open_mimamori(bot)
    bot.tap(RESIDENT, "28日休む")
    assert _run(bot, engine, WED + timedelta(minutes=1)) == 0
    _open_mimamori(bot)
    bot.tap(RESIDENT, "再開する")
    assert "再開" in text_of(bot.last(RESIDENT))
    assert _run(bot, engine, WED + timedelta(days=7, minutes=1)) == 1
    assert "今週もお元気ですか" in text_of(bot.last(RESIDENT))


def test_pausing_after_a_checkin_came_tells_nobody(bot_factory: Any, engine: Any) -> None:
    """The resident leaves for a trip without answering and pauses: their 見守り person and
    the officers are not alarmed about that week."""
    two_han_town(engine)
    clock = FixedClock(T0)
    bot = clocked_bot(bot_factory, clock)
    _watched_by_the_hancho(bot)
    assert _run(bot, engine, WED + timedelta(minutes=1)) == 1
    clock.set(WED + timedelta(hours=1))
    _open_mimamori(bot)
    bot.tap(RESIDENT, "7日休む")
    assert _run(bot, engine, WED + timedelta(hours=6, minutes=1)) == 0
    assert _run(bot, engine, WED + timedelta(hours=12, minutes=1)) == 0
    assert _told(bot, LEADER, "【見守り】") == 0 and _told(bot, OFFICER, "【見守り】") == 0
