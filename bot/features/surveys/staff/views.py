"""Survey results for staff: indicators per wave against their targets, and one wave by district.

Figures come from bot/features/surveys/results.py (shares with 95% Wilson intervals, small
cells suppressed). Everyone with tallies sees the whole-city row; district rows are cut to
the districts of the caller's wards or associations.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from bot.core.models.areas import District
from bot.core.scope import Scope
from bot.features.surveys.catalog import Survey, load_catalog
from bot.features.surveys.models import SurveyWave
from bot.features.surveys.results import Estimate, Row, WaveResults, wave_results
from bot.staff.tables import Column, Table

TREND_COLUMNS = [
    Column("indicator", "col.indicator"),
    Column("wave", "col.wave"),
    Column("answers", "col.answers", numeric=True),
    Column("share", "col.share", numeric=True),
    Column("interval", "col.interval"),
    Column("target", "col.target", numeric=True),
    Column("baseline", "col.baseline", numeric=True),
]

WAVE_COLUMNS = [
    Column("question", "col.question"),
    Column("district", "col.district"),
    Column("answers", "col.answers", numeric=True),
    Column("share", "col.share", numeric=True),
    Column("interval", "col.interval"),
    Column("response_rate", "col.response_rate", numeric=True),
]


class WaveNotFound(Exception):
    """No such wave, or its survey file is gone (the web answers 404)."""


@dataclass(frozen=True)
class TrendPoint:
    """One indicator in one wave, for the chart."""

    indicator: str
    wave: str
    share: float | None
    target: float | None


def _pct(value: float | None) -> str:
    return f"{value * 100:.1f}" if value is not None else ""


def _interval(estimate: Estimate | None) -> str:
    return f"{estimate.low * 100:.1f}–{estimate.high * 100:.1f}" if estimate else ""


def _waves(session: Session) -> list[SurveyWave]:
    return list(session.exec(select(SurveyWave).order_by(col(SurveyWave.opens_at))).all())


def _results(
    session: Session, content_dir: Path, min_cell: int
) -> list[tuple[Survey, SurveyWave, WaveResults]]:
    catalog = load_catalog(content_dir)
    out = []
    for wave in _waves(session):
        survey = catalog.get(wave.survey_id)
        if survey is not None:
            out.append((survey, wave, wave_results(session, survey, wave, min_cell=min_cell)))
    return out


def indicator_trend(
    session: Session, content_dir: Path, min_cell: int, locale: str = "ja"
) -> tuple[Table, list[TrendPoint]]:
    """Every indicator's whole-city share per wave, beside its target and baseline."""
    rows, points = [], []
    for survey, wave, results in _results(session, content_dir, min_cell):
        for question in results.questions:
            if question.indicator is None:
                continue
            total = question.rows[0]
            name = question.indicator.name.get(locale) or question.indicator.name.get("ja", "")
            target = question.indicator.target.value if question.indicator.target else None
            baseline = question.indicator.baseline.value if question.indicator.baseline else None
            share = total.indicator.share if total.indicator else None
            rows.append(
                {
                    "survey_id": survey.id,
                    "wave_id": wave.id,
                    "indicator": name,
                    "wave": wave.wave_key,
                    "answers": total.answers or 0,
                    "share": _pct(share),
                    "interval": _interval(total.indicator),
                    "target": "" if target is None else f"{target:.1f}",
                    "baseline": "" if baseline is None else f"{baseline:.1f}",
                }
            )
            points.append(TrendPoint(name, wave.wave_key, share, target))
    return Table("indicators", TREND_COLUMNS, rows), points


def wave_table(
    session: Session, scope: Scope, content_dir: Path, wave_id: int, min_cell: int, whole_city: str
) -> tuple[Table, Survey, SurveyWave]:
    """One wave: per question, the whole city and each district in scope."""
    wave = session.get(SurveyWave, wave_id)
    survey = load_catalog(content_dir).get(wave.survey_id) if wave else None
    if wave is None or survey is None:
        raise WaveNotFound(wave_id)
    results = wave_results(session, survey, wave, min_cell=min_cell)
    allowed = set(session.exec(select(District.id).where(scope.district_filter(District.id))))
    rows = []
    for question in results.questions:
        label = question.question_id
        for row in question.rows:
            if row.scope == "district" and row.district_id not in allowed:
                continue
            if row.scope == "unknown" and not scope.city_wide:
                continue
            rows.append(_wave_row(label, row, whole_city))
    return Table(f"survey-{wave_id}", WAVE_COLUMNS, rows), survey, wave


def _wave_row(question: str, row: Row, whole_city: str) -> dict[str, object]:
    name = {"all": whole_city, "unknown": "-"}.get(row.scope, row.district_name)
    return {
        "question": question,
        "district": name,
        "suppressed": row.suppressed,
        "answers": "" if row.suppressed else row.answers,
        "share": _pct(row.indicator.share) if row.indicator else "",
        "interval": _interval(row.indicator),
        "response_rate": _pct(row.response_rate),
    }
