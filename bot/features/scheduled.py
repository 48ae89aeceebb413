"""Scheduler jobs: plain functions of (now, session, deps) that enqueue pushes and tidy up.

Each job derives what is due from the tables (waves, invitations, events, RSVPs, quota
rows) and enqueues with stable keys, so running it twice sends nothing new, and a job that
was due while no scheduler ran simply finds its work still due. Sending is the delivery
layer's business; jobs only write outbox rows in their own transaction.

Other domains add jobs with `register_job(JobSpec(...))` (a name already used here is
ignored) and more retention purges with `register_purge(fn)` (fn(session, now) -> rows
removed).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.conversation import store as flow_store
from bot.conversation.engine import Say
from bot.conversation.policy_push import push
from bot.conversation.render import Renderer
from bot.core import erasure
from bot.features.events import reminders, rsvp
from bot.features.membership import memberships as membership
from bot.features.membership import officer_digest
from bot.features.membership.digest_words import digest_say
from bot.features.notices import notices
from bot.features.surveys import surveys
from bot.features.surveys import waves as waves
from bot.features.surveys.catalog import SurveyCatalog
from bot.features.surveys.survey_flow import invite_says, nudge_says
from bot.features.volunteers import shifts as volunteer_shifts
from bot.features.volunteers import volunteers
from bot.platform import inbox
from bot.platform.delivery import send_policy
from bot.platform.delivery.send_policy import Policy
from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobDeps:
    """What jobs need besides the clock and the session."""

    settings: Settings
    renderer: Renderer
    catalog: SurveyCatalog
    policy: Policy

    @property
    def tz(self) -> ZoneInfo:
        """The city's time zone."""
        return self.settings.tz


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


_registered: dict[str, JobSpec] = {}
_purges: list[Callable[[Session, datetime], int]] = []


def register_job(spec: JobSpec) -> None:
    """Add a job from another domain (see the module docstring for the reserved names)."""
    _registered[spec.name] = spec


def register_purge(purge: Callable[[Session, datetime], int]) -> None:
    """Add a retention purge run by the daily `retention_purge` job."""
    if purge not in _purges:
        _purges.append(purge)


def core_jobs(settings: Settings, quota_source: QuotaSource | None) -> list[JobSpec]:
    """The jobs this module provides, plus those registered by other domains."""
    # Poll-style jobs are due once per poll (a minute by default): what they act on is
    # read from the tables each time, so a finer poll only makes them react sooner.
    poll = Every(timedelta(seconds=settings.scheduler_poll_seconds))
    jobs = [
        JobSpec("survey_waves", survey_waves, poll),
        JobSpec("survey_dispatch", survey_dispatch, poll),
        JobSpec("survey_nudge", survey_nudge, poll),
        JobSpec("event_reminders", event_reminders, poll),
        JobSpec("offer_timeouts", offer_timeouts, poll),
        JobSpec("scheduled_notices", scheduled_notices, poll),
        JobSpec("volunteer_offer_timeouts", volunteer_offer_timeouts, poll),
        JobSpec("volunteer_matching", volunteer_matching, poll),
        JobSpec("volunteer_shift_reminders", volunteer_shift_reminders, poll),
        JobSpec("volunteer_attendance", volunteer_attendance, poll),
        JobSpec(
            "pending_application_reminders", pending_application_reminders, DailyAt(time(9, 0))
        ),
        JobSpec("officer_digest", officer_digest_job, digest_cadence(settings)),
        JobSpec(
            "retention_purge",
            retention_purge,
            DailyAt(time.fromisoformat(settings.retention_purge_at)),
        ),
    ]
    if quota_source is not None:
        jobs.append(
            JobSpec(
                "quota_check",
                quota_check,
                Every(timedelta(minutes=settings.quota_refresh_minutes)),
                prefetch=_quota_reader(quota_source),
            )
        )
    return jobs + [spec for name, spec in _registered.items() if name not in {j.name for j in jobs}]


# --- surveys -------------------------------------------------------------------------------


def survey_waves(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Open the waves the schedules call for and close those past their end."""
    return waves.ensure_waves(session, deps.catalog, now, deps.tz) + waves.close_due_waves(
        session, now
    )


def survey_dispatch(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Invite each open wave's audience once; residents over their weekly budget or in the
    middle of a conversation wait for a later run."""
    invited = 0
    for wave in waves.open_waves(session, now):
        survey = deps.catalog.get(wave.survey_id)
        if survey is None or not survey.enabled:
            continue
        audience = surveys.audience_of(session, survey, wave)
        if audience is None:
            log.warning(
                "survey audience not registered",
                extra={"survey": survey.id, "audience": survey.audience},
            )
            continue
        fresh = surveys.not_in_conversation(
            session, surveys.not_yet_invited(session, wave, audience), now
        )
        sent = push(
            session,
            deps,
            now,
            key=f"survey-invite:{wave.id}",
            kind="survey_invite",
            resident_ids=fresh,
            key_by_recipients=True,
            says_for=lambda loc, s=survey, w=wave: invite_says(s, w, loc, deps.tz),
        )
        surveys.record_invites(session, wave, sent, now)
        invited += len(sent)
    return invited


def survey_nudge(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Once, near the close, remind invited residents who have not answered."""
    nudged = 0
    for wave in waves.open_waves(session, now):
        survey = deps.catalog.get(wave.survey_id)
        if survey is None or wave.nudge_at is None or wave.nudge_at > now:
            continue
        sent = push(
            session,
            deps,
            now,
            key=f"survey-nudge:{wave.id}",
            kind="survey_nudge",
            resident_ids=surveys.nudge_candidates(session, wave),
            key_by_recipients=True,
            says_for=lambda loc, s=survey, w=wave: nudge_says(s, w, loc, deps.tz),
        )
        surveys.mark_nudged(session, wave, sent)
        nudged += len(sent)
    return nudged


# --- events, offers, applications ----------------------------------------------------------


def event_reminders(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Remind residents going to an event, at the times its category's rules say."""
    rules = reminders.load_rules(deps.renderer.content.root)
    reminded = 0
    for due in reminders.due_reminders(session, rules, now, deps.tz):
        sent = push(
            session,
            deps,
            now,
            key=due.key,
            kind="event_reminder",
            resident_ids=due.resident_ids,
            use_budget=False,
            send_by=due.event.starts_at,
            says_for=lambda loc, d=due: [reminders.reminder_say(d.event, deps.renderer, loc)],
        )
        reminded += len(sent)
    return reminded


def offer_timeouts(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Expire waitlist offers past their time and offer the place to the next in line."""
    return rsvp.expire_offers(session, now, renderer=deps.renderer)


def scheduled_notices(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Send notices whose scheduled time has come (each at most once)."""
    return notices.send_due_notices(session, now=now, renderer=deps.renderer)


def volunteer_offer_timeouts(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Expire unanswered volunteer asks and ask the next candidates."""
    return volunteers.expire_offers(session, now, renderer=deps.renderer, settings=deps.settings)


def volunteer_matching(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Top up asks for open volunteer slots."""
    return volunteers.match_open_slots(session, now, renderer=deps.renderer, settings=deps.settings)


def volunteer_shift_reminders(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Remind volunteers of tomorrow's shift, once per slot."""
    return volunteer_shifts.due_shift_reminders(
        session, now, renderer=deps.renderer, settings=deps.settings
    )


def volunteer_attendance(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """After the grace period, count unconfirmed shifts as served and thank the volunteers."""
    return volunteer_shifts.assume_attendance_after_grace(
        session, now, renderer=deps.renderer, settings=deps.settings
    )


def pending_application_reminders(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Daily: tell each association's officers how many applications wait for them."""
    waiting: dict[int, int] = defaultdict(int)
    days = deps.settings.pending_reminder_days
    for application in membership.pending_applications_older_than(session, days, now):
        waiting[application.association_id] += 1
    day = now.astimezone(deps.tz).date().isoformat()
    told = 0
    for association_id, count in sorted(waiting.items()):
        officers = membership.officer_resident_ids(session, association_id)
        params = {"count": count, "days": days}
        told += len(
            push(
                session,
                deps,
                now,
                key=f"pending-applications:{association_id}:{day}",
                kind="officer_reminder",
                resident_ids=officers,
                use_budget=False,
                says_for=lambda loc, p=params: [Say("scheduler.pending_applications", p)],
            )
        )
    return told


def digest_cadence(settings: Settings) -> DailyAt:
    """When the officers' digest is due: daily at TSUNAGARI_OFFICER_DIGEST_AT, local time."""
    return DailyAt(time.fromisoformat(settings.officer_digest_at))


def officer_digest_job(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Daily: tell each association's officers what happened there since the last digest.

    The day covered ends at today's digest moment, so a scheduler catching up later (or
    running twice) reports the same day under the same outbox key and sends nothing new.
    Associations where nothing happened get nothing; quiet hours and the quota hold apply.
    """
    until = digest_cadence(deps.settings).slot(now, deps.tz)
    day = until.astimezone(deps.tz).date()
    told = 0
    for association_id in officer_digest.associations_with_officers(session):
        digest = officer_digest.build(session, association_id, until - timedelta(days=1), until)
        if not digest.happened:
            continue
        # Officers' work messages do not spend their weekly budget as residents.
        told += len(
            push(
                session,
                deps,
                now,
                key=f"officer-digest:{association_id}:{day}",
                kind="officer_digest",
                use_budget=False,
                resident_ids=membership.officer_resident_ids(session, association_id),
                says_for=lambda loc, d=digest: [digest_say(d, day, deps.renderer.content, loc)],
            )
        )
    return told


# --- quota and retention -------------------------------------------------------------------


def _quota_reader(source: QuotaSource) -> Callable[[], Awaitable[dict[str, Any]]]:
    async def read() -> dict[str, Any]:
        return {"reading": await source.get_quota()}

    return read


def quota_check(
    *, now: datetime, session: Session, deps: JobDeps, reading: tuple[int | None, int]
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


def retention_purge(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Forget what is no longer needed: handled webhook events, stale conversations, old
    survey invitations, residents unfollowed past their retention period."""
    settings = deps.settings
    removed = inbox.purge_processed(session, now - timedelta(days=settings.webhook_retention_days))
    # A day's grace so a resident coming back is still told their session timed out.
    removed += flow_store.purge_expired(session, now - timedelta(days=1))
    removed += surveys.purge_old_invites(session, now, settings.survey_invite_retention_days)
    removed += erasure.purge_due(session, now)
    for purge in _purges:
        removed += purge(session, now)
    return removed
