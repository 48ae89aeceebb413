"""わたしの町内会 shows the values kept about the resident, not the kinds of data; after
データ削除 no push reaches them across a whole scheduler day (survey, reminders, officers'
digest) even when they write to the bot again, while a neighbour gets all of it. The
usability test found categories listed, and the survey sent again after deletion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from bot.app import Overrides
from bot.clock import FixedClock
from bot.conversation.jobs import JobDeps
from bot.core import consent
from bot.core.models.membership import Membership, MembershipStatus, Officer
from bot.core.models.residents import QuietResident, Resident
from bot.db import session_scope
from bot.features.events.models import Rsvp, RsvpAnswer
from bot.wiring import all_jobs, purges
from tests.builders import add_member, make_area, uid
from tests.features.events.support import make_event
from tests.harness import text_of
from tests.scheduler_support import one_survey

TOKYO = ZoneInfo("Asia/Tokyo")
DAY = datetime(2027, 1, 10, tzinfo=TOKYO).astimezone(UTC)  # a survey wave opens at 10:00


def _fill_in(engine: Any, resident_id: int, now: datetime, locale: str = "ja") -> None:
    """What the resident typed when they joined, and their consent."""
    with session_scope(engine) as session:
        row = session.exec(select(Membership).where(Membership.resident_id == resident_id)).one()
        row.full_name, row.town_label, row.room = "山田 花子", "上田三丁目", "コーポ上田 201"
        row.phone, row.contact_method, row.household_size = "019-123-4567", "phone", 3
        row.decided_at = now
        session.add(row)
        consent.record(
            session, resident_id, agreed=True, version="2026-12-01", locale=locale, now=now
        )


@pytest.mark.parametrize(
    ("locale", "typed", "expected", "absent"),
    [
        (
            "ja",
            "わたしの町内会",
            ("世帯の人数：3人", "言語：日本語", "に同意（版：2026-12-01）"),
            "役員に見えるもの",
        ),
        (
            "en",
            "My association",
            ("Household size: 3", "Language: English", "version 2026-12-01"),
            "Officers see: your name",
        ),
    ],
)
def test_my_data_shows_the_values_kept(
    bot: Any, engine: Any, locale: str, typed: str, expected: tuple[str, ...], absent: str
) -> None:
    (assoc, _) = make_area(engine)
    rid = add_member(engine, assoc, "hanako", locale=locale)
    _fill_in(engine, rid, bot.app.state.clock.now(), locale)
    user = uid("hanako")
    before = len(bot.standin.messages_to(user))
    bot.say(user, typed)
    shown = "\n".join(text_of(m) for m in bot.standin.messages_to(user)[before:])
    for value in ("山田 花子", "上田三丁目", "コーポ上田 201", "019-123-4567", *expected):
        assert value in shown, (value, shown)
    assert absent not in shown


def test_my_data_of_a_resident_who_never_joined(bot: Any, engine: Any) -> None:
    user = uid("kenta")
    bot.say(user, "わたしの町内会")
    shown = text_of(bot.last(user))
    assert "言語：日本語" in shown and "同意：していません" in shown
    assert "お名前などは保存していません" in shown


# --- deletion, then a whole day of the scheduler ---------------------------------------------


def _run_day(bot: Any, clock: FixedClock, deps: JobDeps, step: timedelta) -> None:
    """Every job, each time its cadence comes round (as the scheduler runs them), and the
    sender after each step, from 00:00 to 24:00 in Tokyo."""
    specs = all_jobs(deps.settings, None)
    last: dict[str, datetime] = {}
    now = DAY
    while now < DAY + timedelta(days=1):
        clock.set(now)
        for spec in specs:
            slot = spec.cadence.slot(now, TOKYO)
            if last.get(spec.name) == slot:
                continue
            last[spec.name] = slot
            with session_scope(bot.app.state.engine) as session:
                spec.run(now=now, session=session, deps=deps)
        bot.deliver(now)
        now += step


def test_after_deletion_no_push_reaches_the_resident_for_a_whole_day(
    bot_factory: Any, engine: Any
) -> None:
    (assoc, _) = make_area(engine)
    clock = FixedClock(DAY - timedelta(days=1))
    bot = bot_factory(Overrides(clock=clock))
    hanako, taro = add_member(engine, assoc, "hanako"), add_member(engine, assoc, "taro")
    event = make_event(engine, title="夏祭り", starts_at=DAY + timedelta(days=1, hours=18))
    with session_scope(engine) as session:
        for rid in (hanako, taro):  # both answered 参加 and both are officers
            session.add(
                Rsvp(
                    event_id=event, resident_id=rid, answer=RsvpAnswer.GOING, created_at=clock.now()
                )
            )
            session.add(Officer(resident_id=rid, association_id=assoc, linked_at=clock.now()))
        jiro = Resident(line_user_id=uid("jiro"), created_at=clock.now())
        session.add(jiro)
        session.flush()
        session.add(  # an application waiting for the officers since a week ago
            Membership(
                resident_id=int(jiro.id or 0),
                association_id=assoc,
                status=MembershipStatus.PENDING,
                applied_at=DAY - timedelta(days=7),
            )
        )

    user = uid("hanako")
    bot.say(user, "データ削除")
    bot.tap(user, "はい")
    assert "消去しました" in text_of(bot.last(user))
    bot.say(user, "こんにちは")  # they write again: a new resident, who asked for nothing
    with Session(engine) as session:
        back = session.exec(select(Resident).where(Resident.line_user_id == user)).one()
        assert back.id != hanako and session.get(QuietResident, back.id) is not None
    seen = len(bot.standin.messages_to(user))

    deps = JobDeps(
        settings=bot.app.state.settings,
        notifier=bot.app.state.notifier,
        purges=tuple(purges()),
        overrides={"survey_catalog": one_survey()},
    )
    _run_day(bot, clock, deps, timedelta(minutes=30))

    assert bot.standin.messages_to(user)[seen:] == []  # nothing at all reached hanako
    told_taro = " ".join(bot.texts_to(uid("taro")))
    assert "夏祭り" in told_taro  # the day-before reminder
    assert any(
        m.get("quickReply") for m in bot.standin.messages_to(uid("taro"))
    )  # the survey invitation, with its answer chips
    assert "申し込み" in told_taro or "申請" in told_taro  # the officers heard about jiro


def test_joining_again_ends_the_quiet(bot: Any, engine: Any) -> None:
    (assoc, _) = make_area(engine)
    add_member(engine, assoc, "hanako")
    user = uid("hanako")
    bot.say(user, "データ削除")
    bot.tap(user, "はい")
    bot.say(user, "こんにちは")
    with session_scope(engine) as session:
        back = session.exec(select(Resident).where(Resident.line_user_id == user)).one()
        consent.record(session, int(back.id or 0), agreed=True, version="v", locale="ja", now=DAY)
    with Session(engine) as session:
        assert session.exec(select(QuietResident)).all() == []
