"""Survey waves: when each round opens and closes, from the schedules in content/surveys.

A wave exists once the schedule says it is open (a quarter's opening day, an explicit window,
a few hours after an event with check-ins); it closes with its invited/responded counts kept
per district, so the invitation rows can be purged later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from bot.core import hooks
from bot.features.surveys.catalog import Schedule, SurveyCatalog
from bot.features.surveys.models import SurveyInvite, SurveyWave, WaveStatus


@dataclass(frozen=True)
class WavePlan:
    """A wave the schedule says should exist now."""

    key: str
    opens_at: datetime
    closes_at: datetime
    nudge_at: datetime | None = None
    event_id: int | None = None
    context: Mapping[str, Any] = field(default_factory=dict)


def calendar_plan(schedule: Schedule, now: datetime, tz: ZoneInfo) -> WavePlan | None:
    """The current period's wave of a month/quarter/year schedule, if it is open at `now`."""
    if schedule.every is None:
        return None
    local = now.astimezone(tz)
    starts = [
        datetime.combine(day, schedule.send_at, tzinfo=tz)
        for year in (local.year - 1, local.year)
        for day in _period_days(schedule, year)
    ]
    opened = [start for start in starts if start <= local]
    if not opened:
        return None
    opens = max(opened)
    key = str(opens.year) if schedule.every == "year" else opens.strftime("%Y-%m")
    return _plan(key, opens.astimezone(UTC), schedule, now)


def _period_days(schedule: Schedule, year: int) -> list[date]:
    step = {"month": 1, "quarter": 3, "year": 12}[schedule.every or "year"]
    months = sorted({(schedule.start_month - 1 + k) % 12 + 1 for k in range(0, 12, step)})
    return [date(year, month, schedule.open_day) for month in months]


def _plan(key: str, opens_at: datetime, schedule: Schedule, now: datetime) -> WavePlan | None:
    closes_at = opens_at + timedelta(days=schedule.days_open)
    if not opens_at <= now < closes_at:
        return None
    nudge_at = None
    if schedule.nudge_days_before_close is not None:
        candidate = closes_at - timedelta(days=schedule.nudge_days_before_close)
        nudge_at = candidate if candidate > opens_at else None
    return WavePlan(key, opens_at, closes_at, nudge_at)


def fixed_plans(schedule: Schedule, now: datetime, tz: ZoneInfo) -> list[WavePlan]:
    """Explicit waves open at `now`."""
    plans = []
    for wave in schedule.waves:
        opens, closes = wave.opens.replace(tzinfo=tz), wave.closes.replace(tzinfo=tz)
        if opens <= now < closes:
            nudge = wave.nudge.replace(tzinfo=tz).astimezone(UTC) if wave.nudge else None
            plans.append(WavePlan(wave.key, opens.astimezone(UTC), closes.astimezone(UTC), nudge))
    return plans


def event_plans(session: Session, schedule: Schedule, now: datetime) -> list[WavePlan]:
    """One wave per recently ended event with check-ins (the post-event question)."""
    if schedule.after_event_hours is None:
        return []
    delay = timedelta(hours=schedule.after_event_hours)
    since = now - timedelta(days=schedule.event_lookback_days)
    plans = []
    for event in hooks.ask_ended_events(session, since, now - delay):
        opens_at = event.ends_at + delay
        closes_at = opens_at + timedelta(days=schedule.days_open)
        if now < closes_at:
            plans.append(
                WavePlan(
                    f"event-{event.id}", opens_at, closes_at, None, event.id, {"event": event.title}
                )
            )
    return plans


def ensure_waves(session: Session, catalog: SurveyCatalog, now: datetime, tz: ZoneInfo) -> int:
    """Create the waves the schedules say are open now; returns how many were new."""
    created = 0
    for survey in catalog.enabled():
        plans = fixed_plans(survey.schedule, now, tz) + event_plans(session, survey.schedule, now)
        plan = calendar_plan(survey.schedule, now, tz)
        for candidate in ([plan] if plan else []) + plans:
            created += create_wave(session, survey.id, candidate, now)
    return created


def create_wave(session: Session, survey_id: str, plan: WavePlan, now: datetime) -> int:
    """Add the planned wave unless one with its key exists; 1 when it was added."""
    exists = session.execute(
        select(col(SurveyWave.id)).where(
            col(SurveyWave.survey_id) == survey_id, col(SurveyWave.wave_key) == plan.key
        )
    ).first()
    if exists:
        return 0
    wave = SurveyWave(
        survey_id=survey_id,
        wave_key=plan.key,
        opens_at=plan.opens_at,
        closes_at=plan.closes_at,
        nudge_at=plan.nudge_at,
        event_id=plan.event_id,
        context=dict(plan.context),
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(wave)
    except IntegrityError:  # another scheduler created it in the meantime
        return 0
    return 1


def open_waves(session: Session, now: datetime) -> list[SurveyWave]:
    """Waves taking answers at `now`."""
    return list(
        session.execute(
            select(SurveyWave)
            .where(
                col(SurveyWave.status) == WaveStatus.OPEN,
                col(SurveyWave.opens_at) <= now,
                col(SurveyWave.closes_at) > now,
            )
            .order_by(col(SurveyWave.id))
        ).scalars()
    )


def is_open(wave: SurveyWave, now: datetime) -> bool:
    """True while the wave takes answers."""
    return wave.status == WaveStatus.OPEN and wave.opens_at <= now < wave.closes_at


def close_due_waves(session: Session, now: datetime) -> int:
    """Close waves past their end, keeping invited/responded counts per district."""
    due = list(
        session.execute(
            select(SurveyWave).where(
                col(SurveyWave.status) == WaveStatus.OPEN, col(SurveyWave.closes_at) <= now
            )
        ).scalars()
    )
    for wave in due:
        wave.tally = invite_tally(session, wave.id or 0)
        wave.status, wave.closed_at = WaveStatus.CLOSED, now
        session.add(wave)
    return len(due)


def invite_tally(session: Session, wave_id: int) -> dict[str, dict[str, int]]:
    """{"<district id or ->": {"invited": n, "responded": m}} from the invitation rows."""
    rows = session.execute(
        select(
            col(SurveyInvite.district_id),
            func.count(),
            func.sum(case((col(SurveyInvite.responded), 1), else_=0)),
        )
        .where(col(SurveyInvite.wave_id) == wave_id)
        .group_by(col(SurveyInvite.district_id))
    ).all()
    return {
        _district_key(district): {"invited": int(invited), "responded": int(responded or 0)}
        for district, invited, responded in rows
    }


def _district_key(district_id: int | None) -> str:
    return "-" if district_id is None else str(district_id)
