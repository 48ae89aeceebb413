"""The demo's open survey round, from content/demo/surveys.yaml (sample data).

A shipped survey waits for its schedule (Morioka's opens four times a year), so the demo
opens a wave of it at once: a resident in the simulator can answer it from the menu or
from the invitation the scheduler pushes to followers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlmodel import Session, col, select

from bot.features.surveys import waves as survey_waves
from bot.features.surveys.catalog import SurveyCatalog, load_catalog
from bot.features.surveys.models import SurveyWave, WaveStatus
from bot.features.surveys.waves import WavePlan


def seed_survey_waves(session: Session, content_dir: Path, now: datetime, tz: ZoneInfo) -> int:
    """Open each demo wave unless one of its key is still open; waves added."""
    catalog = load_catalog(content_dir)
    path = content_dir / "demo" / "surveys.yaml"
    specs = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("waves", [])
    added = 0
    for spec in specs:
        added += _open_wave(session, catalog, spec, now, tz)
    return added


def _open_wave(
    session: Session, catalog: SurveyCatalog, spec: dict[str, Any], now: datetime, tz: ZoneInfo
) -> int:
    survey = catalog.get(str(spec["survey"]))
    if survey is None or not survey.enabled:
        # The scheduler invites only enabled surveys' waves: a disabled one would sit unused.
        raise ValueError(f"demo survey wave names no enabled survey: {spec['survey']!r}")
    prefix = f"{spec['key']}-"
    pending = session.exec(
        select(SurveyWave.id).where(
            SurveyWave.survey_id == survey.id,
            col(SurveyWave.wave_key).startswith(prefix),
            SurveyWave.status == WaveStatus.OPEN,
            col(SurveyWave.closes_at) > now,
        )
    ).first()
    if pending is not None:  # loaded before and not over yet
        return 0
    opens = now + timedelta(days=int(spec.get("opens_in_days", 0)))
    closes = now + timedelta(days=int(spec["closes_in_days"]))
    nudge_days = survey.schedule.nudge_days_before_close
    nudge = None if nudge_days is None else closes - timedelta(days=nudge_days)
    key = prefix + opens.astimezone(tz).date().isoformat()
    plan = WavePlan(key, opens, closes, nudge if nudge is not None and nudge > opens else None)
    return survey_waves.create_wave(session, survey.id, plan, now)


def survey_wave_counts(session: Session, now: datetime) -> dict[str, int]:
    """How many survey waves take answers now, for the seed summary."""
    return {"open survey waves": len(survey_waves.open_waves(session, now))}
