"""The surveys' scheduler jobs: open and close waves, invite, nudge once near the close."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from sqlmodel import Session

from bot.conversation.jobs import JobDeps
from bot.features.surveys import surveys
from bot.features.surveys import waves as waves
from bot.features.surveys.catalog import SurveyCatalog, load_catalog
from bot.features.surveys.survey_flow import invite_says, nudge_says
from bot.platform.scheduler.jobs import Every, JobSpec
from bot.settings import Settings

log = logging.getLogger(__name__)


def jobs(settings: Settings) -> list[JobSpec]:
    """Poll-style: what is due is read from the tables each time."""
    poll = Every(timedelta(seconds=settings.scheduler_poll_seconds))
    return [
        JobSpec("survey_waves", survey_waves, poll),
        JobSpec("survey_dispatch", survey_dispatch, poll),
        JobSpec("survey_nudge", survey_nudge, poll),
    ]


def purge_old_invites(session: Session, now: datetime, settings: Settings) -> int:
    """Retention: forget who was invited to waves closed long ago."""
    return surveys.purge_old_invites(session, now, settings.survey_invite_retention_days)


def catalog_of(deps: JobDeps) -> SurveyCatalog:
    """The survey catalog: the content's, unless a test handed one in."""
    found = deps.overrides.get("survey_catalog")
    return found if found is not None else load_catalog(deps.content.root)


def survey_waves(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Open the waves the schedules call for and close those past their end."""
    return waves.ensure_waves(session, catalog_of(deps), now, deps.tz) + waves.close_due_waves(
        session, now
    )


def survey_dispatch(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Invite each open wave's audience once; residents over their weekly budget or in the
    middle of a conversation wait for a later run."""
    invited = 0
    for wave in waves.open_waves(session, now):
        survey = catalog_of(deps).get(wave.survey_id)
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
        sent = deps.notifier.push(
            session,
            now,
            key=f"survey-invite:{wave.id}",
            kind="survey_invite",
            resident_ids=fresh,
            key_by_recipients=True,
            under_policy=True,
            says_for=partial(invite_says, survey, wave, tz=deps.tz),
        )
        surveys.record_invites(session, wave, sent, now)
        invited += len(sent)
    return invited


def survey_nudge(*, now: datetime, session: Session, deps: JobDeps) -> int:
    """Once, near the close, remind invited residents who have not answered."""
    nudged = 0
    for wave in waves.open_waves(session, now):
        survey = catalog_of(deps).get(wave.survey_id)
        if survey is None or wave.nudge_at is None or wave.nudge_at > now:
            continue
        sent = deps.notifier.push(
            session,
            now,
            key=f"survey-nudge:{wave.id}",
            kind="survey_nudge",
            resident_ids=surveys.nudge_candidates(session, wave),
            key_by_recipients=True,
            under_policy=True,
            says_for=partial(nudge_says, survey, wave, tz=deps.tz),
        )
        surveys.mark_nudged(session, wave, sent)
        nudged += len(sent)
    return nudged
