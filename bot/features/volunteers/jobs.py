"""Volunteering's scheduler jobs: asks that time out, matching, shift reminders, attendance."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.conversation.jobs import JobDeps
from bot.features.volunteers import shifts as volunteer_shifts
from bot.features.volunteers import volunteers
from bot.platform.scheduler.jobs import Every, JobSpec
from bot.settings import Settings


def jobs(settings: Settings) -> list[JobSpec]:
    """Poll-style: what is due is read from the tables each time."""
    poll = Every(timedelta(seconds=settings.scheduler_poll_seconds))
    return [
        JobSpec("volunteer_offer_timeouts", volunteer_offer_timeouts, poll),
        JobSpec("volunteer_matching", volunteer_matching, poll),
        JobSpec("volunteer_shift_reminders", volunteer_shift_reminders, poll),
        JobSpec("volunteer_attendance", volunteer_attendance, poll),
    ]


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
