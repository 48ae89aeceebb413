"""What a periodic job is: a name (its watermark row), a body, a cadence and async pre-reads.

Job bodies are plain functions of `(*, now, session, deps)` returning how much they did. Each
feature declares its own (`Feature.jobs`); this module holds the shapes and the one job the
platform itself runs: reading LINE's monthly quota.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.platform.delivery import send_policy
from bot.platform.delivery.send_policy import Policy
from bot.settings import Settings

log = logging.getLogger(__name__)


class PlatformDeps(Protocol):
    """What the platform's own job needs from the deps every job receives."""

    @property
    def tz(self) -> ZoneInfo:
        """The city's time zone."""
        ...

    @property
    def policy(self) -> Policy:
        """The send policy."""
        ...


class QuotaSource(Protocol):
    """Reads LINE's monthly quota (SdkLineGateway.get_quota)."""

    async def get_quota(self) -> tuple[int | None, int]:
        """The monthly limit (None: unlimited) and this month's consumption."""
        ...


@dataclass(frozen=True)
class Every:
    """Due once per interval: slots are multiples of the interval since the epoch."""

    interval: timedelta

    def slot(self, now: datetime, tz: ZoneInfo) -> datetime:
        """The latest slot at or before `now`."""
        seconds = self.interval.total_seconds()
        return datetime.fromtimestamp(now.timestamp() // seconds * seconds, UTC)


@dataclass(frozen=True)
class DailyAt:
    """Due once a day at a local time (a missed day runs once, at the next start)."""

    at: time

    def slot(self, now: datetime, tz: ZoneInfo) -> datetime:
        """Today's local `at` if passed, else yesterday's."""
        local = now.astimezone(tz)
        today = datetime.combine(local.date(), self.at, tzinfo=tz)
        if today > local:
            today = datetime.combine(local.date() - timedelta(days=1), self.at, tzinfo=tz)
        return today.astimezone(UTC)


Cadence = Every | DailyAt
JobFn = Callable[..., int]  # fn(*, now, session, deps, **prefetched) -> things done


@dataclass(frozen=True)
class JobSpec:
    """A periodic job: its name (the watermark row), body, cadence and async pre-reads."""

    name: str
    run: JobFn
    cadence: Cadence
    # Network reads done before the job's transaction (LINE's quota), passed as kwargs.
    prefetch: Callable[[], Awaitable[dict[str, Any]]] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


def platform_jobs(settings: Settings, quota_source: QuotaSource | None) -> list[JobSpec]:
    """The platform's jobs: the quota check, when a quota source (LINE) is there."""
    if quota_source is None:
        return []
    return [
        JobSpec(
            "quota_check",
            quota_check,
            Every(timedelta(minutes=settings.quota_refresh_minutes)),
            prefetch=_quota_reader(quota_source),
        )
    ]


def _quota_reader(source: QuotaSource) -> Callable[[], Awaitable[dict[str, Any]]]:
    async def read() -> dict[str, Any]:
        return {"reading": await source.get_quota()}

    return read


def quota_check(
    *, now: datetime, session: Session, deps: PlatformDeps, reading: tuple[int | None, int]
) -> int:
    """Store LINE's quota reading; the first reading past 80% of a month warns staff."""
    status = send_policy.record_quota(
        session, now=now, tz=deps.tz, limit=reading[0], used=reading[1], policy=deps.policy
    )
    if status.newly_warned:
        log.warning(
            "LINE message quota past the warning share",
            extra={"month": status.month, "used": status.used, "limit": status.limit},
        )
    if status.holding:
        log.warning(
            "LINE message quota past the hold share: non-urgent pushes held",
            extra={"month": status.month, "used": status.used, "limit": status.limit},
        )
    return status.used
