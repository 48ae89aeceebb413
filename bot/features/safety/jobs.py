"""The safety checks' scheduler jobs: escalation after the set time, stage by stage.

Every 助けが必要 is told as it comes, before the set time or after it: the 班長 of its 班
(the officers when the 班 has none) gets one push per run for the households that changed
to 助けが必要 since, and it is on their list. After `visit_after_minutes` each 班長 with
households to visit is told (once); after twice
that, officers of associations with 班 still unanswered; after three times, the check is
marked for ward staff, who see it on the staff web (ward staff have no LINE account here).
Each stage is claimed with a conditional UPDATE, so two scheduler runs tell nobody twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.conversation.jobs import JobDeps
from bot.features.safety import checks, messages
from bot.platform.scheduler.jobs import Every, JobSpec
from bot.settings import Settings


def jobs(settings: Settings) -> list[JobSpec]:
    """Poll-style: which stage is due is read from the checks each time."""
    poll = Every(timedelta(seconds=settings.scheduler_poll_seconds))
    return [JobSpec("safety_escalation", escalate, poll)]


def escalate(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Tell new 助けが必要, then run every due stage of every open check; returns how many
    班 were told of 助けが必要 plus how many stages ran."""
    done = 0
    for check in checks.open_sent(session):
        done += messages.tell_help(deps.notifier, session, now, check)
    for check in checks.due_stage(session, stage="hancho_told_at", now=now):
        messages.tell_hancho(deps.notifier, session, now, check)
        done += 1
    for check in checks.due_stage(session, stage="officers_told_at", now=now):
        messages.tell_officers(deps.notifier, session, now, check)
        done += 1
    for check in checks.due_stage(session, stage="ward_told_at", now=now):
        done += checks.claim_stage(session, check, "ward_told_at", now)
    return done
