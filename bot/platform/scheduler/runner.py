"""Runs the jobs: APScheduler 3.x triggers a few poll-style jobs, the lease decides who runs.

Every job is an APScheduler interval job (every `scheduler_poll_seconds`, coalesced, one
instance at a time) that, when this process holds the lease, claims the job's current slot
in `job_run` and runs the body in the same transaction. A slot missed while no scheduler ran
is still unclaimed at the next start, so the job runs once then; a crashed run rolls its
claim back and is retried at the next poll. Nothing scheduled lives only in memory.

Started by the app's lifespan (`tsunagari serve`, when TSUNAGARI_RUN_SCHEDULER is on) or
alone by `tsunagari scheduler`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import insert, update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from bot.clock import Clock, SystemClock
from bot.db import session_scope
from bot.platform.scheduler.jobs import JobSpec
from bot.platform.scheduler.lease import Lease, lease_for
from bot.platform.scheduler.models import JobRun
from bot.settings import Settings

log = logging.getLogger(__name__)

LEASE_JOB = "scheduler_lease"


class SchedulerRunner:
    """The jobs, the lease and the APScheduler that polls them."""

    def __init__(
        self,
        *,
        engine: Engine,
        deps: Any,
        jobs: Sequence[JobSpec],
        lease: Lease,
        clock: Clock | None = None,
        poll_seconds: float = 60.0,
        lease_retry_seconds: float = 15.0,
    ) -> None:
        self.engine, self.deps, self.jobs, self.lease = engine, deps, list(jobs), lease
        self.clock = clock or SystemClock()
        self.poll_seconds, self.lease_retry_seconds = poll_seconds, lease_retry_seconds
        self._scheduler: AsyncIOScheduler | None = None

    @property
    def apscheduler(self) -> AsyncIOScheduler | None:
        """The APScheduler instance while started (for inspection)."""
        return self._scheduler

    async def start(self) -> None:
        """Try the lease, then let APScheduler poll the lease and every job."""
        await self.keep_lease()
        # APScheduler logs every execution at INFO; our own log says what each job did.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        scheduler = AsyncIOScheduler(timezone=UTC)
        defaults: dict[str, Any] = {"coalesce": True, "max_instances": 1, "replace_existing": True}
        scheduler.add_job(
            self.keep_lease,
            IntervalTrigger(seconds=self.lease_retry_seconds),
            id=LEASE_JOB,
            name=LEASE_JOB,
            misfire_grace_time=None,
            **defaults,
        )
        first = datetime.now(UTC) + timedelta(seconds=1)
        for spec in self.jobs:
            scheduler.add_job(
                self.run_job,
                IntervalTrigger(seconds=self.poll_seconds),
                args=[spec],
                id=spec.name,
                name=spec.name,
                next_run_time=first,
                misfire_grace_time=None,
                **defaults,
            )
        scheduler.start()
        self._scheduler = scheduler
        log.info(
            "scheduler started",
            extra={"jobs": [j.name for j in self.jobs], "lease_held": self.lease.held},
        )

    async def stop(self) -> None:
        """Stop polling and give the lease up, so another replica takes over at once."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        await asyncio.to_thread(self.lease.release)

    async def keep_lease(self) -> bool:
        """Take the lease if free, or confirm it; the jobs run only while it is held."""
        return await asyncio.to_thread(self.lease.acquire)

    async def run_due(self, now: datetime | None = None) -> dict[str, int | None]:
        """Run every due job once (start-up catch-up and tests): name → result or None."""
        if not await self.keep_lease():
            return {}
        return {spec.name: await self.run_job(spec, now) for spec in self.jobs}

    async def run_job(self, spec: JobSpec, now: datetime | None = None) -> int | None:
        """Run one job if this process holds the lease and its current slot is unclaimed."""
        if not self.lease.held:
            return None
        moment = now or self.clock.now()
        slot = spec.cadence.slot(moment, self.deps.tz)
        if not await asyncio.to_thread(_is_due, self.engine, spec.name, slot):
            return None
        try:
            extra = await spec.prefetch() if spec.prefetch else {}
            return await asyncio.to_thread(
                run_claimed, self.engine, spec, moment, slot, self.deps, extra
            )
        except Exception as exc:  # noqa: BLE001 - one failing job must not stop the others
            log.exception("scheduler job failed", extra={"job": spec.name})
            await asyncio.to_thread(_record_error, self.engine, spec.name, exc)
            return None


def run_claimed(
    engine: Engine,
    spec: JobSpec,
    now: datetime,
    slot: datetime,
    deps: Any,
    extra: dict[str, Any],
) -> int | None:
    """Claim `slot` for the job and run it in the same transaction; None if already claimed.

    The claim is an UPDATE … WHERE slot_at < :slot: on PostgreSQL a second scheduler blocks
    on the row until the first commits, then finds the slot taken.
    """
    _ensure_row(engine, spec.name)
    with session_scope(engine) as session:
        if not _claim(session, spec.name, slot, now):
            return None
        result = int(spec.run(now=now, session=session, deps=deps, **extra))
        session.execute(
            update(JobRun)
            .where(col(JobRun.name) == spec.name)
            .values(finished_at=now, last_result=result, last_error=None)
        )
    # Most polls find nothing to do; only work done is worth an INFO line.
    log.log(
        logging.INFO if result else logging.DEBUG,
        "scheduler job ran",
        extra={"job": spec.name, "result": result},
    )
    return result


def _ensure_row(engine: Engine, name: str) -> None:
    with session_scope(engine) as session:
        if session.get(JobRun, name) is not None:
            return
    try:
        with session_scope(engine) as session:
            session.execute(insert(JobRun).values(name=name, runs=0))
    except IntegrityError:
        pass  # another scheduler inserted it first


def _claim(session: Session, name: str, slot: datetime, now: datetime) -> bool:
    result = session.execute(  # an UPDATE's result is a CursorResult
        update(JobRun)
        .where(
            col(JobRun.name) == name, (col(JobRun.slot_at).is_(None)) | (col(JobRun.slot_at) < slot)
        )
        .values(slot_at=slot, started_at=now, runs=JobRun.runs + 1)
    )
    return bool(cast(CursorResult[Any], result).rowcount)


def _is_due(engine: Engine, name: str, slot: datetime) -> bool:
    with session_scope(engine) as session:
        row = session.get(JobRun, name)
        return row is None or row.slot_at is None or row.slot_at < slot


def _record_error(engine: Engine, name: str, exc: Exception) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(JobRun)
            .where(col(JobRun.name) == name)
            .values(last_error=type(exc).__name__[:200])
        )


def build_runner(
    *,
    engine: Engine,
    settings: Settings,
    deps: Any,
    jobs: Sequence[JobSpec],
    clock: Clock | None = None,
    lease: Lease | None = None,
) -> SchedulerRunner:
    """A runner over `jobs`, each called with `deps`; the lease from the database's kind."""
    return SchedulerRunner(
        engine=engine,
        deps=deps,
        jobs=jobs,
        lease=lease or lease_for(engine),
        clock=clock,
        poll_seconds=settings.scheduler_poll_seconds,
        lease_retry_seconds=settings.scheduler_lease_retry_seconds,
    )
