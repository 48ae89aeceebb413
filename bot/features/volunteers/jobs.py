"""Volunteering's scheduler jobs: asks that time out, matching, shift reminders, attendance.

The services decide; each job pushes what they say to tell through `deps.notifier`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.conversation.jobs import JobDeps
from bot.features.volunteers import shifts as volunteer_shifts
from bot.features.volunteers import volunteers
from bot.features.volunteers.messages import tell
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
    """Expire unanswered volunteer asks and ask the next candidates; returns asks expired."""
    expired = volunteers.expire_offers(session, now, settings=deps.settings)
    tell(deps.notifier, session, now, expired.tells)
    return expired.expired


def volunteer_matching(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Top up asks for open volunteer slots; returns asks made."""
    asked = volunteers.match_open_slots(session, now, settings=deps.settings)
    tell(deps.notifier, session, now, asked.tells)
    return len(asked)


def volunteer_shift_reminders(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Remind volunteers of tomorrow's shift, once per slot; returns reminders sent."""
    due = volunteer_shifts.due_shift_reminders(session, now, settings=deps.settings)
    return tell(deps.notifier, session, now, due)


def volunteer_attendance(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """After the grace period, count unconfirmed shifts as served and thank the volunteers;
    returns shifts recorded."""
    recorded = volunteer_shifts.assume_attendance_after_grace(session, now, settings=deps.settings)
    tell(deps.notifier, session, now, recorded.tells)
    return len(recorded.shifts)
