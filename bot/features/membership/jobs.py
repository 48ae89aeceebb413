"""Membership's scheduler jobs: officers told of waiting applications, and their daily digest."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from functools import partial

from sqlmodel import Session

from bot.content import Content
from bot.conversation.engine import Say
from bot.conversation.jobs import JobDeps
from bot.features.membership import memberships as membership
from bot.features.membership import officer_digest
from bot.features.membership.messages import digest_say
from bot.features.membership.officer_digest import Digest
from bot.platform.scheduler.jobs import DailyAt, JobSpec
from bot.settings import Settings


def jobs(settings: Settings) -> list[JobSpec]:
    """Daily jobs at fixed local times."""
    return [
        JobSpec(
            "pending_application_reminders", pending_application_reminders, DailyAt(time(9, 0))
        ),
        JobSpec("officer_digest", officer_digest_job, digest_cadence(settings)),
    ]


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
            deps.notifier.push(
                session,
                now,
                key=f"pending-applications:{association_id}:{day}",
                kind="officer_reminder",
                resident_ids=officers,
                under_policy=True,
                use_budget=False,
                says_for=partial(_pending_says, params),
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
            deps.notifier.push(
                session,
                now,
                key=f"officer-digest:{association_id}:{day}",
                kind="officer_digest",
                under_policy=True,
                use_budget=False,
                resident_ids=membership.officer_resident_ids(session, association_id),
                says_for=partial(_digest_says, digest, day, deps.content),
            )
        )
    return told


def _pending_says(params: dict[str, float], locale: str) -> list[Say]:
    return [Say("scheduler.pending_applications", params)]


def _digest_says(digest: Digest, day: date, content: Content, locale: str) -> list[Say]:
    return [digest_say(digest, day, content, locale)]
