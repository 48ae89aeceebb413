"""The events' scheduler jobs: reminders before an event, waitlist offers that time out."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.conversation.engine import Say
from bot.conversation.jobs import JobDeps
from bot.features.events import messages, reminders, rsvp
from bot.features.events.models import Event
from bot.platform.scheduler.jobs import Every, JobSpec
from bot.settings import Settings


def jobs(settings: Settings) -> list[JobSpec]:
    """Poll-style: what is due is read from the tables each time."""
    poll = Every(timedelta(seconds=settings.scheduler_poll_seconds))
    return [
        JobSpec("event_reminders", event_reminders, poll),
        JobSpec("offer_timeouts", offer_timeouts, poll),
    ]


def event_reminders(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Remind residents going to an event, at the times its category's rules say."""
    content = deps.notifier.content
    rules = reminders.load_rules(content.root)
    reminded = 0
    for due in reminders.due_reminders(session, rules, now, deps.tz):

        def says(locale: str, event: Event = due.event) -> list[Say]:
            return [messages.reminder_say(event, content, locale)]

        sent = deps.notifier.push(
            session,
            now,
            key=due.key,
            kind="event_reminder",
            resident_ids=due.resident_ids,
            under_policy=True,
            use_budget=False,
            send_by=due.event.starts_at,
            says_for=says,
        )
        reminded += len(sent)
    return reminded


def offer_timeouts(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Expire waitlist offers past their time and offer the place to the next in line."""
    # TODO: the flows hold a freed place for `settings.rsvp_offer_hours`; this job offers
    # the next place for the default time, as it always has (kept: no behaviour change).
    expiry = rsvp.expire_offers(session, now)
    return messages.tell_expiry(deps.notifier, session, now, expiry)
