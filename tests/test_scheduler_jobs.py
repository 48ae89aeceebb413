"""Scheduler jobs, called directly with a fixed `now`: what they enqueue, and that a second
run enqueues nothing new."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.conversation import jobs as retention
from bot.conversation.jobs import JobDeps
from bot.conversation.models import Conversation
from bot.core.models.areas import Association, District, Ward
from bot.core.models.membership import Membership, MembershipStatus, Officer
from bot.db import session_scope
from bot.features.events import events
from bot.features.events import jobs as event_jobs
from bot.features.events.models import Rsvp, RsvpAnswer
from bot.features.membership import jobs as membership_jobs
from bot.features.surveys import jobs as survey_jobs
from bot.features.surveys.models import SurveyInvite, SurveyWave
from bot.platform.delivery import outbox
from bot.platform.delivery.models import OutboxBatch, OutboxMessage, OutboxRecipient, QuotaSnapshot
from bot.platform.inbox_models import InboxStatus, WebhookEvent
from bot.platform.scheduler import jobs as platform_jobs
from bot.platform.scheduler.jobs import JobSpec
from bot.wiring import all_jobs
from tests.features.events.support import cancel_event, edit_event, plain_notifier
from tests.scheduler_support import (
    T0,
    add_residents,
    count_rows,
    deps_for,
    invite,
    one_survey,
    outbox_messages,
    recipients_of,
    settings_for,
)

TOKYO = ZoneInfo("Asia/Tokyo")
SETTINGS = settings_for()
DEPS = deps_for(SETTINGS, one_survey())
NOTIFIER = plain_notifier()


def tokyo(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TOKYO).astimezone(UTC)


def run(
    job: Any, now: datetime, deps: JobDeps = DEPS, engine: Engine | None = None, **extra: Any
) -> int:
    assert engine is not None
    with session_scope(engine) as session:
        return int(job(now=now, session=session, deps=deps, **extra))


def dispatch(engine: Engine, now: datetime, deps: JobDeps = DEPS) -> int:
    run(survey_jobs.survey_waves, now, deps, engine)
    return run(survey_jobs.survey_dispatch, now, deps, engine)


# --- survey dispatch -----------------------------------------------------------------------


def test_a_wave_invites_each_resident_once_in_their_own_language(engine: Engine) -> None:
    ja = add_residents(engine, 3)
    en = add_residents(engine, 2, locale="en", start=100)
    assert dispatch(engine, T0) == 5
    messages = outbox_messages(engine, "survey_invite")
    assert len(messages) == 2
    texts = {m.key.split(":")[2]: m.messages[0]["text"] for m in messages}
    assert texts["ja"].startswith("【テスト】") and texts["en"].startswith("[test]")
    assert "quickReply" in messages[0].messages[-1]
    assert sorted(recipients_of(engine, "survey_invite")) == sorted(ja + en)
    # Again, and a few minutes later: nothing new.
    assert dispatch(engine, T0) == 0
    assert dispatch(engine, T0 + timedelta(minutes=5)) == 0
    assert len(outbox_messages(engine)) == 2
    # A newcomer is invited alone.
    (late,) = add_residents(engine, 1, start=200)
    assert dispatch(engine, T0 + timedelta(hours=1)) == 1
    assert recipients_of(engine, "survey_invite").count(late) == 1
    assert len(recipients_of(engine, "survey_invite")) == 6


def test_a_wave_opening_at_night_is_queued_for_after_eight_and_spread(engine: Engine) -> None:
    add_residents(engine, 2)
    add_residents(engine, 2, locale="en", start=10)
    night = one_survey(
        schedule={
            "waves": [{"key": "late", "opens": "2026-07-10T22:00", "closes": "2026-07-20T22:00"}]
        }
    )
    deps = deps_for(SETTINGS, night)
    assert dispatch(engine, tokyo(7, 10, 22), deps) == 4
    with session_scope(engine) as session:
        due = sorted(session.execute(select(OutboxBatch.due_at)).scalars())
    eight = tokyo(7, 11, 8)
    assert len(due) == 2 and all(eight <= d < eight + timedelta(minutes=30) for d in due)
    assert due[0] != due[1]  # two messages, two moments


def test_residents_over_their_weekly_budget_are_invited_later(engine: Engine) -> None:
    busy, calm = add_residents(engine, 2)
    with session_scope(engine) as session:
        for n in range(3):
            outbox.enqueue(
                session,
                key=f"notice:{n}",
                kind="notice",
                recipient_ids=[busy],
                messages=[{"type": "text", "text": "回覧"}],
                now=T0 - timedelta(days=2),
            )
    assert dispatch(engine, T0) == 1
    assert recipients_of(engine, "survey_invite") == [calm]
    assert dispatch(engine, T0 + timedelta(days=5, minutes=1)) == 1  # the notices aged out
    assert recipients_of(engine, "survey_invite") == [busy, calm]


def test_a_resident_in_the_middle_of_a_flow_is_invited_once_it_is_over(engine: Engine) -> None:
    joining, idle = add_residents(engine, 2)
    with session_scope(engine) as session:
        session.add(
            Conversation(
                line_user_id=f"U{0:032x}",
                flow="join",
                step="town",
                updated_at=T0,
                expires_at=T0 + timedelta(minutes=30),
            )
        )
    assert dispatch(engine, T0) == 1  # the invitation's chips would replace the join's
    assert recipients_of(engine, "survey_invite") == [idle]
    with session_scope(engine) as session:
        assert session.execute(select(SurveyInvite.resident_id)).scalars().all() == [idle]
    assert dispatch(engine, T0 + timedelta(minutes=31)) == 1  # the conversation expired
    assert sorted(recipients_of(engine, "survey_invite")) == sorted([joining, idle])


def test_quota_past_the_hold_share_holds_invitations_until_it_recovers(engine: Engine) -> None:
    add_residents(engine, 3)
    with session_scope(engine) as session:
        session.add(QuotaSnapshot(month="2026-07", limit=1000, used=960, taken_at=T0))
    assert dispatch(engine, T0) == 0
    assert outbox_messages(engine) == [] and count_rows(engine, SurveyInvite) == 0
    with session_scope(engine) as session:
        session.get_one(QuotaSnapshot, "2026-07").used = 100
    assert dispatch(engine, T0 + timedelta(minutes=15)) == 3


def test_the_closing_nudge_goes_once_to_those_who_have_not_answered(engine: Engine) -> None:
    answered, silent = add_residents(engine, 2)
    assert dispatch(engine, T0) == 2
    with session_scope(engine) as session:
        row = session.execute(select(SurveyInvite).where(SurveyInvite.resident_id == answered))
        row.scalar_one().responded = True
        nudge_at = session.execute(select(SurveyWave.nudge_at)).scalar_one()
    assert nudge_at == T0 + timedelta(days=10)
    assert run(survey_jobs.survey_nudge, nudge_at - timedelta(minutes=1), engine=engine) == 0
    assert run(survey_jobs.survey_nudge, nudge_at, engine=engine) == 1
    assert run(survey_jobs.survey_nudge, nudge_at + timedelta(hours=2), engine=engine) == 0
    assert recipients_of(engine, "survey_nudge") == [silent]


# --- event reminders -----------------------------------------------------------------------


def _event(
    engine: Engine,
    starts: datetime,
    going: list[int],
    category: str = "festival",
    published: datetime | None = None,
) -> int:
    with session_scope(engine) as session:
        event = events.create_event(
            session,
            title="盆踊り",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            now=published or starts - timedelta(days=10),
            publish=True,
            category=category,
        )
        for rid in going:
            session.add(
                Rsvp(
                    event_id=event.id or 0, resident_id=rid, answer=RsvpAnswer.GOING, created_at=T0
                )
            )
        return int(event.id or 0)


def _reminders(engine: Engine) -> list[tuple[str, datetime]]:
    return [(m.key, m.created_at) for m in outbox_messages(engine, "event_reminder")]


def test_reminders_fire_once_at_the_right_local_times(engine: Engine) -> None:
    going = add_residents(engine, 2)
    add_residents(engine, 1, start=50)  # not going: never reminded
    _event(engine, tokyo(8, 15, 18), going)  # Saturday 15 August, 18:00 in Tokyo
    day_before = tokyo(8, 14, 18)
    assert run(event_jobs.event_reminders, day_before - timedelta(minutes=1), engine=engine) == 0
    assert run(event_jobs.event_reminders, day_before, engine=engine) == 2
    assert run(event_jobs.event_reminders, day_before + timedelta(minutes=1), engine=engine) == 0
    two_hours = tokyo(8, 15, 16)
    assert run(event_jobs.event_reminders, two_hours - timedelta(minutes=1), engine=engine) == 0
    assert run(event_jobs.event_reminders, two_hours, engine=engine) == 2
    assert run(event_jobs.event_reminders, two_hours + timedelta(minutes=30), engine=engine) == 0
    assert [at for _, at in _reminders(engine)] == [day_before, two_hours]
    assert sorted(recipients_of(engine, "event_reminder")) == sorted(going * 2)
    text = outbox_messages(engine, "event_reminder")[0].messages[0]["text"]
    assert "盆踊り" in text and "18:00" in text


def test_a_moved_event_is_reminded_at_its_new_time(engine: Engine) -> None:
    going = add_residents(engine, 1)
    event_id = _event(engine, tokyo(8, 15, 18), going)
    with session_scope(engine) as session:
        edit_event(
            session,
            NOTIFIER,
            event_id=event_id,
            now=tokyo(8, 1, 9),
            changes={"starts_at": tokyo(8, 22, 18), "ends_at": tokyo(8, 22, 20)},
        )
    assert run(event_jobs.event_reminders, tokyo(8, 14, 18), engine=engine) == 0
    assert run(event_jobs.event_reminders, tokyo(8, 15, 16), engine=engine) == 0
    assert run(event_jobs.event_reminders, tokyo(8, 21, 18), engine=engine) == 1
    assert run(event_jobs.event_reminders, tokyo(8, 21, 18, 5), engine=engine) == 0


def test_a_cancelled_event_is_not_reminded(engine: Engine) -> None:
    going = add_residents(engine, 1)
    event_id = _event(engine, tokyo(8, 15, 18), going)
    with session_scope(engine) as session:
        cancel_event(session, NOTIFIER, event_id=event_id, now=tokyo(8, 10, 9))
    assert run(event_jobs.event_reminders, tokyo(8, 14, 18), engine=engine) == 0
    assert run(event_jobs.event_reminders, tokyo(8, 15, 16), engine=engine) == 0
    assert _reminders(engine) == []


def test_a_scheduler_back_after_both_moments_sends_only_the_latest(engine: Engine) -> None:
    going = add_residents(engine, 1)
    _event(engine, tokyo(8, 15, 18), going, category="drill")
    assert run(event_jobs.event_reminders, tokyo(8, 15, 17, 30), engine=engine) == 1
    assert [key.split(":")[2] for key, _ in _reminders(engine)] == ["hours_before_1"]


def test_an_event_published_after_a_reminder_moment_skips_that_reminder(engine: Engine) -> None:
    going = add_residents(engine, 1)
    _event(engine, tokyo(8, 15, 18), going, published=tokyo(8, 14, 20))
    assert run(event_jobs.event_reminders, tokyo(8, 14, 20, 1), engine=engine) == 0
    assert run(event_jobs.event_reminders, tokyo(8, 15, 16), engine=engine) == 1


def test_a_reminder_due_in_quiet_hours_waits_for_eight_unless_the_event_starts_first(
    engine: Engine,
) -> None:
    going = add_residents(engine, 1)
    _event(engine, tokyo(8, 15, 9), going)  # 09:00: two hours before is 07:00
    assert run(event_jobs.event_reminders, tokyo(8, 15, 7), engine=engine) == 1
    with session_scope(engine) as session:
        due = (
            session.execute(
                select(OutboxBatch.due_at)
                .join(OutboxMessage, OutboxMessage.id == OutboxBatch.message_id)
                .where(OutboxMessage.kind == "event_reminder")
            )
            .scalars()
            .all()
        )
    assert len(due) == 1 and tokyo(8, 15, 8) <= due[0] < tokyo(8, 15, 8, 30)
    early = add_residents(engine, 1, start=30)
    _event(engine, tokyo(8, 16, 7), early, category="drill")  # 07:00 drill: reminder at 06:00
    assert run(event_jobs.event_reminders, tokyo(8, 16, 6), engine=engine) == 0
    assert len(outbox_messages(engine, "event_reminder")) == 1


# --- officers, quota, retention ------------------------------------------------------------


def _association(engine: Engine) -> int:
    with session_scope(engine) as session:
        ward = Ward(code="W", name="区")
        session.add(ward)
        session.flush()
        district = District(code="D", ward_id=ward.id or 0, name="地区")
        session.add(district)
        session.flush()
        association = Association(code="A", district_id=district.id or 0, name="一丁目町内会")
        session.add(association)
        session.flush()
        return int(association.id or 0)


def test_officers_hear_about_waiting_applications_once_a_day(engine: Engine) -> None:
    association = _association(engine)
    officer, applicant, fresh = add_residents(engine, 3)
    with session_scope(engine) as session:
        session.add(Officer(resident_id=officer, association_id=association, linked_at=T0))
        for rid, applied in ((applicant, T0 - timedelta(days=3)), (fresh, T0)):
            session.add(
                Membership(
                    resident_id=rid,
                    association_id=association,
                    status=MembershipStatus.PENDING,
                    applied_at=applied,
                )
            )
    assert run(membership_jobs.pending_application_reminders, T0, engine=engine) == 1
    assert (
        run(membership_jobs.pending_application_reminders, T0 + timedelta(hours=3), engine=engine)
        == 0
    )
    assert (
        run(membership_jobs.pending_application_reminders, T0 + timedelta(days=1), engine=engine)
        == 1
    )
    text = outbox_messages(engine, "officer_reminder")[0].messages[0]["text"]
    assert "1件" in text


def test_quota_readings_are_stored_and_warn_once(engine: Engine, caplog: Any) -> None:
    assert run(platform_jobs.quota_check, T0, engine=engine, reading=(1000, 850)) == 850
    assert (
        run(
            platform_jobs.quota_check,
            T0 + timedelta(minutes=15),
            engine=engine,
            reading=(1000, 860),
        )
        == 860
    )
    warnings = [r for r in caplog.records if "warning share" in r.getMessage()]
    assert len(warnings) == 1
    with session_scope(engine) as session:
        row = session.get_one(QuotaSnapshot, "2026-07")
        assert (row.used, row.warned_at) == (860, T0)


def test_retention_purge_forgets_old_events_and_stale_conversations_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        for n, received in enumerate([T0 - timedelta(days=8), T0 - timedelta(days=1)]):
            session.add(
                WebhookEvent(
                    webhook_event_id=f"e{n}",
                    event_type="message",
                    source_key="u",
                    status=InboxStatus.DONE,
                    received_at=received,
                )
            )
        session.add(
            Conversation(
                line_user_id="Uold",
                flow="language",
                step="locale",
                updated_at=T0,
                expires_at=T0 - timedelta(days=2),
            )
        )
        session.add(
            Conversation(
                line_user_id="Unew",
                flow="language",
                step="locale",
                updated_at=T0,
                expires_at=T0 - timedelta(hours=2),
            )
        )
    assert run(retention.retention_purge, T0, engine=engine) == 2
    assert run(retention.retention_purge, T0, engine=engine) == 0
    assert count_rows(engine, WebhookEvent) == 1 and count_rows(engine, Conversation) == 1


# --- every job, twice ----------------------------------------------------------------------


def _outbox_state(engine: Engine) -> tuple[int, int, int]:
    return (
        count_rows(engine, OutboxMessage),
        count_rows(engine, OutboxBatch),
        count_rows(engine, OutboxRecipient),
    )


class FixedQuota:
    """A quota source that always reads the same."""

    async def get_quota(self) -> tuple[int | None, int]:
        return 1000, 10


@pytest.mark.parametrize("spec", all_jobs(SETTINGS, FixedQuota()), ids=lambda s: s.name)
def test_running_a_job_twice_sends_nothing_new(engine: Engine, spec: JobSpec) -> None:
    """Each job with work to do: the second run at the same moment adds no outbox rows."""
    association = _association(engine)
    residents = add_residents(engine, 4)
    now = tokyo(7, 20, 10)  # the wave's nudge moment, two hours before the event
    with session_scope(engine) as session:
        session.add(Officer(resident_id=residents[0], association_id=association, linked_at=T0))
        session.add(
            Membership(
                resident_id=residents[1],
                association_id=association,
                status=MembershipStatus.PENDING,
                applied_at=T0 - timedelta(days=9),
            )
        )
    _event(engine, tokyo(7, 20, 12), residents[:2])
    run(survey_jobs.survey_waves, T0, engine=engine)
    with session_scope(engine) as session:
        wave = int(session.execute(select(SurveyWave.id)).scalar_one())
    invite(engine, wave, residents[2:])
    first = run(spec.run, now, engine=engine, **_extra(spec))
    before = _outbox_state(engine)
    second = run(spec.run, now, engine=engine, **_extra(spec))
    assert _outbox_state(engine) == before
    if spec.name in (
        "survey_dispatch",
        "survey_nudge",
        "event_reminders",
        "pending_application_reminders",
    ):
        assert first > 0 and second == 0  # it had work, and did it once


def _extra(spec: JobSpec) -> dict[str, Any]:
    return {"reading": (1000, 10)} if spec.name == "quota_check" else {}
