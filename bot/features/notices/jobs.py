"""The notices' scheduler job: send notices whose scheduled time has come."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.conversation.jobs import JobDeps
from bot.features.notices import messages, notices
from bot.platform.scheduler.jobs import Every, JobSpec
from bot.settings import Settings


def jobs(settings: Settings) -> list[JobSpec]:
    """Poll-style: what is due is read from the tables each time."""
    poll = Every(timedelta(seconds=settings.scheduler_poll_seconds))
    return [JobSpec("scheduled_notices", scheduled_notices, poll)]


def scheduled_notices(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Send notices whose scheduled time has come (each at most once); returns how many."""
    base_url = deps.settings.public_base_url
    return sum(
        messages.send_notice(deps.notifier, session, now, notice_id, base_url).sent
        for notice_id in notices.due_notices(session, now=now)
    )
