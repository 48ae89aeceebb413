"""Indicators against their targets for the staff overview: answers
`hooks.ask_overview_indicators` with each indicator's latest wave, as its page shows it.

The areas are those the indicator pages open on for the caller: the whole city, and the
wards of a caller who is not city-wide. Only the latest wave of each survey is tallied.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, func, select

from bot.core.hooks import OverviewIndicator
from bot.core.report_areas import CITY
from bot.core.scope import Scope
from bot.features.surveys.models import SurveyWave
from bot.features.surveys.staff import views
from bot.features.surveys.staff.views import IndicatorRef, Period

HIDDEN = "hidden"


def overview_indicators(
    session: Session, scope: Scope, words: Any, locale: str, settings: Any
) -> list[OverviewIndicator]:
    """Each indicator's latest value per area, with its interval, baseline, target and status
    (the page's own formatting: the same strings its table shows)."""
    refs = views.indicators(session, settings.content_dir)
    if not refs:
        return []
    surveys = {ref.survey.id for ref in refs}
    latest = session.exec(
        select(func.min(col(SurveyWave.opens_at))).where(
            col(SurveyWave.opens_at).in_(
                select(func.max(col(SurveyWave.opens_at)))
                .where(col(SurveyWave.survey_id).in_(sorted(surveys)))
                .group_by(col(SurveyWave.survey_id))
            )
        )
    ).first()
    if latest is None:
        return []
    since = latest.astimezone(settings.tz).date()
    fig = views.figures(
        session,
        settings.content_dir,
        int(settings.survey_min_cell),
        Period(since, None),
        settings.tz,
        surveys,
        locale=locale,
    )
    areas = [
        a
        for a in views.areas_in_scope(session, scope, words)
        if a.key == CITY or (a.level == "ward" and not scope.city_wide)
    ]
    found = []
    for ref in refs:
        for area in areas:
            series = fig.series(ref, area.key)
            if not series:
                continue
            wave, row = series[-1]
            cells = views.row_cells(row, words)
            found.append(
                OverviewIndicator(
                    name=views.indicator_name(ref, locale),
                    area_name=area.name,
                    wave=wave.wave_key,
                    answers=str(cells["answers"]),
                    share=str(cells["share"]),
                    interval=str(cells["interval"]),
                    baseline=_figure(ref, "baseline"),
                    target=_figure(ref, "target"),
                    status=status(ref, None if cells["suppressed"] else str(cells["interval"])),
                    link=f"/staff/surveys/indicators/{ref.indicator.id}?area={area.key}",
                    suppressed=bool(cells["suppressed"]),
                )
            )
    return found


def _figure(ref: IndicatorRef, which: str) -> str:
    figure = getattr(ref.indicator, which)
    return "" if figure is None else f"{figure.value:.1f}"


def status(ref: IndicatorRef, shown_interval: str | None) -> str:
    """Where the indicator stands against the plan's target, judged on its 95% interval as
    shown ("low–high" percent), not on the point alone: met (the whole interval at or above
    the target), short (all of it below), unclear (the target inside it), none (the plan sets
    no target), hidden (too few answers to show)."""
    if not shown_interval:
        return HIDDEN
    target = ref.indicator.target
    if target is None:
        return "none"
    low, _, high = shown_interval.partition("–")
    if float(low) >= target.value:
        return "met"
    if float(high) < target.value:
        return "short"
    return "unclear"
