"""The officers' daily digest: once a day at the configured local time, only when something
happened, only about the officer's own association, under quiet hours and the quota hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.clock import FixedClock
from bot.conversation.jobs import JobDeps
from bot.core.models.areas import Association, District, Ward
from bot.core.models.membership import Membership, MembershipStatus, Officer
from bot.db import session_scope
from bot.features.events.models import Event, Rsvp, RsvpAnswer
from bot.features.membership import jobs as membership_jobs
from bot.features.notices.models import Notice, NoticeAck, NoticeRecipient
from bot.features.volunteers.models import Opportunity, Slot
from bot.platform.delivery import send_policy
from bot.platform.delivery.models import OutboxBatch, OutboxMessage, OutboxRecipient, QuotaSnapshot
from bot.platform.scheduler.lease import LocalLease
from bot.platform.scheduler.runner import SchedulerRunner
from bot.wiring import all_jobs
from tests.scheduler_support import (
    add_residents,
    count_rows,
    deps_for,
    one_survey,
    outbox_messages,
    recipients_of,
    settings_for,
)

TOKYO = ZoneInfo("Asia/Tokyo")
SETTINGS = settings_for()  # digest at 19:00, quiet hours 21:00-08:00
DEPS = deps_for(SETTINGS, one_survey())


def tokyo(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 9, day, hour, minute, tzinfo=TOKYO).astimezone(UTC)


def run(engine: Engine, now: datetime, deps: JobDeps = DEPS) -> int:
    with session_scope(engine) as session:
        return membership_jobs.officer_digest_job(now=now, session=session, deps=deps)


def _associations(engine: Engine, *names: str) -> list[int]:
    with session_scope(engine) as session:
        ward = Ward(code="W", name="区")
        session.add(ward)
        session.flush()
        district = District(code="D", ward_id=ward.id or 0, name="地区")
        session.add(district)
        session.flush()
        rows = [
            Association(code=f"A{n}", district_id=district.id or 0, name=name)
            for n, name in enumerate(names)
        ]
        session.add_all(rows)
        session.flush()
        return [int(a.id or 0) for a in rows]


def _officer(engine: Engine, association_id: int, *, locale: str = "ja", start: int) -> int:
    (resident,) = add_residents(engine, 1, locale=locale, start=start)
    with session_scope(engine) as session:
        session.add(
            Officer(resident_id=resident, association_id=association_id, linked_at=tokyo(1, 9))
        )
    return resident


def _membership(
    engine: Engine,
    association_id: int,
    status: str,
    *,
    applied: datetime,
    decided: datetime | None = None,
    ended: datetime | None = None,
    start: int,
) -> int:
    (resident,) = add_residents(engine, 1, start=start)
    with session_scope(engine) as session:
        session.add(
            Membership(
                resident_id=resident,
                association_id=association_id,
                status=status,
                applied_at=applied,
                decided_at=decided,
                ended_at=ended,
            )
        )
    return resident


def _busy_day(engine: Engine, association_id: int, day: int, *, start: int) -> None:
    """On `day` in Tokyo: one application, one approval, one leaving, two RSVPs (one going),
    a notice asking for stamps sent to two members, one of whom stamps it."""
    morning = tokyo(day, 10)
    _membership(engine, association_id, MembershipStatus.PENDING, applied=morning, start=start)
    joined = _membership(
        engine,
        association_id,
        MembershipStatus.APPROVED,
        applied=morning - timedelta(days=2),
        decided=morning,
        start=start + 1,
    )
    _membership(
        engine,
        association_id,
        MembershipStatus.ENDED,
        applied=tokyo(1, 9),
        decided=tokyo(1, 10),
        ended=morning,
        start=start + 2,
    )
    voters = add_residents(engine, 2, start=start + 3)
    with session_scope(engine) as session:
        event = Event(
            association_id=association_id,
            title="清掃",
            status="published",
            starts_at=tokyo(day + 5, 9),
            ends_at=tokyo(day + 5, 11),
            checkin_code=f"c{start}",
        )
        notice = Notice(
            association_id=association_id,
            title="回覧",
            body="本文",
            ack_requested=True,
            status="sent",
            sent_at=morning,
            recipient_count=2,
        )
        session.add_all([event, notice])
        session.flush()
        for rid, answer in zip(voters, (RsvpAnswer.GOING, RsvpAnswer.NOT), strict=True):
            session.add(
                Rsvp(
                    event_id=event.id or 0,
                    resident_id=rid,
                    answer=answer,
                    created_at=morning,
                    updated_at=morning,
                )
            )
        for rid in (joined, voters[0]):
            session.add(
                NoticeRecipient(
                    notice_id=notice.id or 0, resident_id=rid, association_id=association_id
                )
            )
        session.add(
            NoticeAck(notice_id=notice.id or 0, resident_id=joined, at=morning + timedelta(hours=1))
        )


def _open_slot(engine: Engine, association_id: int, starts: datetime) -> None:
    with session_scope(engine) as session:
        ward = session.execute(select(Ward.id)).scalar_one()
        opportunity = Opportunity(role="受付", association_id=association_id, ward_id=ward)
        session.add(opportunity)
        session.flush()
        session.add(
            Slot(
                opportunity_id=opportunity.id or 0,
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                needed=3,
                filled=1,
                bucket="weekend_morning",
                month=202609,
            )
        )


def _texts(engine: Engine) -> list[str]:
    return [m.messages[0]["text"] for m in outbox_messages(engine, "officer_digest")]


async def test_the_digest_fires_once_at_the_configured_local_time(engine: Engine) -> None:
    (association,) = _associations(engine, "青葉町内会")
    officer = _officer(engine, association, start=900)
    _busy_day(engine, association, 10, start=100)
    clock = FixedClock(tokyo(10, 18, 59))
    digest = next(s for s in all_jobs(SETTINGS, None) if s.name == "officer_digest")
    runner = SchedulerRunner(
        engine=engine, deps=DEPS, jobs=[digest], lease=LocalLease(), clock=clock
    )
    # Before 19:00 the due slot is yesterday's, and nothing happened in that day.
    assert (await runner.run_due())["officer_digest"] == 0
    clock.set(tokyo(10, 19))
    assert (await runner.run_due())["officer_digest"] == 1
    clock.set(tokyo(10, 19, 1))
    assert (await runner.run_due())["officer_digest"] is None
    clock.set(tokyo(11, 19))  # the next day: nothing new happened
    assert (await runner.run_due())["officer_digest"] == 0
    (message,) = outbox_messages(engine, "officer_digest")
    assert message.created_at == tokyo(10, 19)
    assert recipients_of(engine, "officer_digest") == [officer]
    with session_scope(engine) as session:
        (due,) = session.execute(select(OutboxBatch.due_at)).scalars().all()
    assert due == tokyo(10, 19)  # not deferred: 19:00 is outside quiet hours
    assert _texts(engine) == [
        "【青葉町内会】9月10日のまとめ\n"
        "・新しい入会申請：1件（承認待ちは全部で1件）\n"
        "・入会：1人\n"
        "・退会：1人\n"
        "・行事への出欠の回答：2件（うち参加1件）\n"
        "・お知らせの送信：1件\n"
        "・お知らせの確認：きょう1人、この1週間の確認率50%（1/2人）\n"
        "詳しくは役員メニューまたは職員画面でご確認ください。"
    ]


def test_running_the_digest_twice_sends_once(engine: Engine) -> None:
    (association,) = _associations(engine, "青葉町内会")
    _officer(engine, association, start=900)
    _busy_day(engine, association, 10, start=100)
    assert run(engine, tokyo(10, 19)) == 1
    rows = (count_rows(engine, OutboxMessage), count_rows(engine, OutboxRecipient))
    assert run(engine, tokyo(10, 19)) == 0
    assert run(engine, tokyo(10, 23)) == 0  # a later catch-up reports the same day
    assert (count_rows(engine, OutboxMessage), count_rows(engine, OutboxRecipient)) == rows


def test_a_day_when_nothing_happened_sends_nothing(engine: Engine) -> None:
    (association,) = _associations(engine, "青葉町内会")
    _officer(engine, association, start=900)
    # Standing figures only: an old application still waiting and an open volunteer slot.
    _membership(engine, association, MembershipStatus.PENDING, applied=tokyo(1, 9), start=100)
    _open_slot(engine, association, tokyo(20, 9))
    assert run(engine, tokyo(10, 19)) == 0
    assert outbox_messages(engine) == []


def test_an_officer_of_a_hears_only_about_a(engine: Engine) -> None:
    a, b, c = _associations(engine, "青葉町内会", "文化町内会", "千歳町内会")
    officer_a = _officer(engine, a, start=900)
    officer_b = _officer(engine, b, locale="en", start=901)
    _officer(engine, c, start=902)  # C had a quiet day
    _busy_day(engine, a, 10, start=100)
    _membership(
        engine, b, MembershipStatus.APPROVED, applied=tokyo(8, 9), decided=tokyo(10, 9), start=200
    )
    _open_slot(engine, b, tokyo(20, 9))
    _open_slot(engine, a, tokyo(9, 9))  # already past: not open any more
    assert run(engine, tokyo(10, 19)) == 2
    by_key = {m.key.split(":")[1]: m for m in outbox_messages(engine, "officer_digest")}
    assert set(by_key) == {str(a), str(b)}
    with session_scope(engine) as session:
        to = {
            key: [
                r.resident_id
                for r in session.execute(
                    select(OutboxRecipient).where(OutboxRecipient.message_id == m.id)
                ).scalars()
            ]
            for key, m in by_key.items()
        }
    assert to == {str(a): [officer_a], str(b): [officer_b]}
    text_a, text_b = (by_key[str(x)].messages[0]["text"] for x in (a, b))
    assert "青葉町内会" in text_a and "文化町内会" not in text_a and "ボランティア" not in text_a
    assert text_b == (
        "[文化町内会] Summary for 9/10\n- Joined: 1\n"
        "- Volunteer slots still open: 1 (places to fill: 2)\n"
        "See the officer menu or the staff web for details."
    )


def test_a_digest_due_in_quiet_hours_waits_for_eight_and_spends_no_budget(
    engine: Engine,
) -> None:
    late = deps_for(settings_for(officer_digest_at="22:30"), one_survey())
    (association,) = _associations(engine, "青葉町内会")
    officer = _officer(engine, association, start=900)
    _busy_day(engine, association, 10, start=100)
    assert run(engine, tokyo(10, 22, 30), late) == 1
    with session_scope(engine) as session:
        (due,) = session.execute(select(OutboxBatch.due_at)).scalars().all()
        counted = send_policy.pushes_this_week(session, [officer], tokyo(11, 9))
    assert tokyo(11, 8) <= due < tokyo(11, 8, 30)
    assert counted == {}  # the digest leaves the officer's weekly budget to residents' news


def test_the_quota_hold_stops_the_digest(engine: Engine) -> None:
    (association,) = _associations(engine, "青葉町内会")
    _officer(engine, association, start=900)
    _busy_day(engine, association, 10, start=100)
    with session_scope(engine) as session:
        session.add(QuotaSnapshot(month="2026-09", limit=1000, used=990, taken_at=tokyo(10, 18)))
    assert run(engine, tokyo(10, 19)) == 0
    assert outbox_messages(engine) == []
