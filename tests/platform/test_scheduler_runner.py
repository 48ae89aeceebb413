"""The runner: slots and watermarks with a controllable clock, catch-up after downtime,
failed runs retried, and the APScheduler wiring."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.clock import FixedClock
from bot.conversation.jobs import JobDeps
from bot.conversation.models import Conversation
from bot.db import session_scope
from bot.features.surveys.models import SurveyInvite
from bot.platform.delivery.models import QuotaSnapshot
from bot.platform.inbox_models import InboxStatus, WebhookEvent
from bot.platform.line.gateway import SdkLineGateway
from bot.platform.scheduler.jobs import DailyAt, Every, JobSpec
from bot.platform.scheduler.lease import LocalLease
from bot.platform.scheduler.models import JobRun
from bot.platform.scheduler.runner import LEASE_JOB, SchedulerRunner
from bot.scheduling import build_scheduler as build_runner
from bot.wiring import all_jobs
from tests.scheduler_support import (
    CONTENT,
    T0,
    add_residents,
    count_rows,
    deps_for,
    one_survey,
    outbox_messages,
    settings_for,
)

TOKYO = ZoneInfo("Asia/Tokyo")
SETTINGS = settings_for()


def tokyo(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 7, day, hour, minute, tzinfo=TOKYO).astimezone(UTC)


def runner_for(
    engine: Engine,
    clock: FixedClock,
    jobs: list[JobSpec] | None = None,
    deps: JobDeps | None = None,
) -> SchedulerRunner:
    """A fresh runner, as a restarted process would build it."""
    return SchedulerRunner(
        engine=engine,
        deps=deps or deps_for(SETTINGS, one_survey()),
        jobs=jobs or all_jobs(SETTINGS, None),
        lease=LocalLease(),
        clock=clock,
    )


def test_daily_and_interval_slots_follow_the_city_clock() -> None:
    purge = DailyAt(time(3, 30))
    assert purge.slot(tokyo(10, 3, 29), TOKYO) == tokyo(9, 3, 30)
    assert purge.slot(tokyo(10, 3, 30), TOKYO) == tokyo(10, 3, 30)
    minute = Every(timedelta(minutes=1))
    assert minute.slot(tokyo(10, 12, 0) + timedelta(seconds=59), TOKYO) == tokyo(10, 12, 0)


async def test_a_job_due_during_downtime_runs_once_after_restart(engine: Engine) -> None:
    with session_scope(engine) as session:  # handled on 3 July: kept 7 days
        session.add(
            WebhookEvent(
                webhook_event_id="e1",
                event_type="message",
                source_key="u",
                status=InboxStatus.DONE,
                received_at=tokyo(3, 10),
            )
        )
    clock = FixedClock(tokyo(10, 4))
    first = runner_for(engine, clock)
    assert (await first.run_due())["retention_purge"] == 0  # ran today's 03:30 slot
    assert (await first.run_due())["retention_purge"] is None  # not twice
    # The process is down from the 10th to the 12th, missing the 11th and 12th at 03:30.
    clock.set(tokyo(12, 9))
    restarted = runner_for(engine, clock)
    assert (await restarted.run_due())["retention_purge"] == 1  # once, purging the event
    assert (await restarted.run_due())["retention_purge"] is None
    with session_scope(engine) as session:
        row = session.get_one(JobRun, "retention_purge")
        assert (row.runs, row.slot_at) == (2, tokyo(12, 3, 30))
    assert count_rows(engine, WebhookEvent) == 0


async def test_a_survey_wave_that_opened_while_down_is_sent_once_on_start(engine: Engine) -> None:
    residents = add_residents(engine, 3)
    clock = FixedClock(T0 - timedelta(hours=1))  # 09:00: nothing open yet
    first = runner_for(engine, clock)
    assert (await first.run_due())["survey_dispatch"] == 0
    clock.set(T0 + timedelta(hours=5))  # down at 10:00 when the wave opened, back at 15:00
    restarted = runner_for(engine, clock)
    results = await restarted.run_due()
    assert (results["survey_waves"], results["survey_dispatch"]) == (1, 3)
    clock.advance(timedelta(minutes=1))
    assert (await restarted.run_due())["survey_dispatch"] == 0
    assert count_rows(engine, SurveyInvite) == len(residents)
    assert len(outbox_messages(engine, "survey_invite")) == 1


async def test_a_failed_run_leaves_its_slot_due_and_its_writes_undone(engine: Engine) -> None:
    failures = [RuntimeError("database hiccup")]

    def flaky(*, now: datetime, session: Session, deps: JobDeps) -> int:
        session.add(
            Conversation(
                line_user_id="U1", flow="language", step="locale", updated_at=now, expires_at=now
            )
        )
        session.flush()
        if failures:
            raise failures.pop()
        return 1

    spec = JobSpec("flaky", flaky, Every(timedelta(minutes=1)))
    runner = runner_for(engine, FixedClock(T0), jobs=[spec])
    assert await runner.run_job(spec) is None
    with session_scope(engine) as session:
        row = session.get_one(JobRun, "flaky")
        assert (row.slot_at, row.last_error, row.runs) == (None, "RuntimeError", 0)
    assert count_rows(engine, Conversation) == 0
    assert await runner.run_job(spec) == 1  # the same slot, retried at the next poll
    assert await runner.run_job(spec) is None
    assert count_rows(engine, Conversation) == 1


async def test_a_process_without_the_lease_runs_nothing(engine: Engine) -> None:
    class Elsewhere(LocalLease):
        @property
        def held(self) -> bool:
            return False

        def acquire(self) -> bool:
            return False

    add_residents(engine, 2)
    runner = SchedulerRunner(
        engine=engine,
        deps=deps_for(SETTINGS, one_survey()),
        jobs=all_jobs(SETTINGS, None),
        lease=Elsewhere(),
        clock=FixedClock(T0),
    )
    assert await runner.run_due() == {}
    assert await runner.run_job(runner.jobs[0]) is None
    assert outbox_messages(engine) == [] and count_rows(engine, JobRun) == 0


async def test_apscheduler_polls_each_job_coalesced_one_at_a_time(
    engine: Engine, caplog: Any
) -> None:
    caplog.set_level(logging.INFO)
    settings = settings_for(
        str(engine.url), scheduler_poll_seconds=45, scheduler_lease_retry_seconds=10
    )
    runner = build_runner(engine=engine, settings=settings, content=CONTENT, clock=FixedClock(T0))
    await runner.start()
    try:
        scheduler = runner.apscheduler
        assert scheduler is not None and scheduler.running
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {LEASE_JOB, *(spec.name for spec in runner.jobs)}
        for job_id, job in jobs.items():
            assert job.coalesce and job.max_instances == 1
            assert isinstance(job.trigger, IntervalTrigger)
            expected = 10 if job_id == LEASE_JOB else 45
            assert job.trigger.interval == timedelta(seconds=expected)
    finally:
        await runner.stop()
    assert runner.apscheduler is None
    if engine.dialect.name == "sqlite":
        assert any("single-process" in r.getMessage() for r in caplog.records)


async def test_the_quota_check_reads_line_through_the_sdk(engine: Engine, standin: Any) -> None:
    standin.set_quota(1000, 850)
    gateway = SdkLineGateway(host=standin.url, access_token="test-channel-token")
    try:
        runner = build_runner(
            engine=engine,
            settings=SETTINGS,
            content=CONTENT,
            quota_source=gateway,
            clock=FixedClock(T0),
            lease=LocalLease(),
        )
        spec = next(s for s in runner.jobs if s.name == "quota_check")
        assert await runner.run_job(spec) == 850
        assert await runner.run_job(spec) is None  # one reading per 15 minutes
    finally:
        await gateway.close()
    with session_scope(engine) as session:
        row = session.get_one(QuotaSnapshot, "2026-07")
        assert (row.limit, row.used, row.warned_at) == (1000, 850, T0)
    assert [r.path for r in standin.requests] == [
        "/v2/bot/message/quota",
        "/v2/bot/message/quota/consumption",
    ]


def test_serve_starts_the_scheduler_and_stops_it(bot_factory: Any) -> None:
    harness = bot_factory(run_scheduler=True)
    runner = harness.app.state.scheduler
    assert runner is not None and runner.apscheduler is not None and runner.apscheduler.running
    assert "quota_check" in {job.id for job in runner.apscheduler.get_jobs()}
