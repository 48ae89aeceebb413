"""The surveys' part of the staff JSON API under /api/v1: each indicator per wave in an area
and period, with its interval, baseline and target, and who answered (bearer tokens, the same
scopes as the pages). Suppressed cells come back as `suppressed: true` with null figures."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel

from bot.core.scope import Permission
from bot.features.surveys.representation import REST
from bot.features.surveys.results import CITY, Row
from bot.features.surveys.staff import views
from bot.features.surveys.staff.views import AreaNotAllowed, Figures, IndicatorRef, Period
from bot.staff.api import ERRORS
from bot.staff.deps import ApiAccess, SessionDep, SettingsDep, StaffUser, words_for
from bot.staff.filters import AREA

router = APIRouter(prefix="/api/v1", tags=["staff API"], responses=ERRORS)

Tallies = Annotated[StaffUser, Depends(ApiAccess(Permission.VIEW_TALLIES))]
Since = Annotated[date | None, Query(description="first day a wave may open on")]
Until = Annotated[date | None, Query(description="last day a wave may open on")]
AreaKey = Annotated[
    str,
    Query(
        max_length=40,
        pattern=AREA,
        description="city, ward:<id>, district:<id> or association:<id> (within the token's scope)",
    ),
]
NOT_FOUND: dict[int | str, dict[str, str]] = {404: {"description": "No such indicator"}}


class WaveValue(BaseModel):
    """One wave's value of an indicator in the area (null figures when suppressed)."""

    wave_id: int
    wave: str
    opened: date
    suppressed: bool
    answers: int | None
    positive: int | None
    share: float | None
    low: float | None
    high: float | None
    paper: int | None
    response_rate: float | None


class ChannelOut(BaseModel):
    """Answers through one channel: line, hancho (paper by a 班長) or proxy (staff)."""

    channel: str
    answers: int
    share_of_answers: float


class StratumOut(BaseModel):
    """A district (or the suppressed districts merged, key "rest") against the population."""

    key: str
    name: str
    suppressed: bool
    answers: int | None
    population: int | None
    population_share: float | None
    share: float | None


class RepresentativenessOut(BaseModel):
    """Who answered the latest wave in the period, and the post-stratified estimate."""

    wave: str
    raw_share: float | None
    adjusted_share: float | None
    adjusted_low: float | None
    adjusted_high: float | None
    population_covered: float | None
    population_sample: bool
    channels: list[ChannelOut]
    districts: list[StratumOut]


class IndicatorOut(BaseModel):
    """An indicator of the city's plan, its baseline and target (percent), and its waves."""

    id: str
    name: str
    city: str
    source: str
    area: str
    baseline: float | None
    target: float | None
    waves: list[WaveValue]
    representativeness: RepresentativenessOut | None


def _wave(wave_id: int, key: str, opened: date, row: Row | None) -> WaveValue:
    if row is None or row.suppressed or row.indicator is None:
        return WaveValue(
            wave_id=wave_id,
            wave=key,
            opened=opened,
            suppressed=True,
            answers=None,
            positive=None,
            share=None,
            low=None,
            high=None,
            paper=None,
            response_rate=None,
        )
    est = row.indicator
    return WaveValue(
        wave_id=wave_id,
        wave=key,
        opened=opened,
        suppressed=False,
        answers=row.answers,
        positive=est.count,
        share=est.share,
        low=est.low,
        high=est.high,
        paper=row.paper,
        response_rate=row.response_rate,
    )


def _indicator(
    fig: Figures, ref: IndicatorRef, area: str, settings: object, locale: str
) -> IndicatorOut:
    tz = settings.tz  # type: ignore[attr-defined]
    waves = [
        _wave(w.id or 0, w.wave_key, w.opens_at.astimezone(tz).date(), row)
        for w, row in fig.series(ref, area)
    ]
    rep_out = None
    represented = views.representation_of(fig, ref, area, settings.content_dir)  # type: ignore[attr-defined]
    if represented is not None:
        wave, rep = represented
        adjusted = rep.adjusted
        rep_out = RepresentativenessOut(
            wave=wave.wave_key,
            raw_share=rep.raw.share if rep.raw else None,
            adjusted_share=adjusted.share if adjusted else None,
            adjusted_low=adjusted.low if adjusted else None,
            adjusted_high=adjusted.high if adjusted else None,
            population_covered=adjusted.coverage if adjusted else None,
            population_sample=rep.population_sample,
            channels=[
                ChannelOut(
                    channel=c.channel, answers=c.answers, share_of_answers=c.share_of_answers
                )
                for c in rep.channels
            ],
            districts=[
                StratumOut(
                    key=s.key,
                    name=s.name if s.key != REST else "",
                    suppressed=s.suppressed,
                    answers=s.answers,
                    population=s.population,
                    population_share=s.population_share,
                    share=s.indicator.share if s.indicator and not s.suppressed else None,
                )
                for s in rep.strata
            ],
        )
    return IndicatorOut(
        id=ref.indicator.id,
        name=views.indicator_name(ref, locale),
        city=ref.indicator.city,
        source=ref.indicator.source,
        area=area,
        baseline=ref.indicator.baseline.value if ref.indicator.baseline else None,
        target=ref.indicator.target.value if ref.indicator.target else None,
        waves=waves,
        representativeness=rep_out,
    )


def _check_area(request: Request, user: StaffUser, db: object, area: str) -> None:
    try:
        views.check_area(db, user.scope, area, words_for(request, "ja"))  # type: ignore[arg-type]
    except AreaNotAllowed:
        raise HTTPException(status_code=403, detail="area outside the token's scope") from None


@router.get("/indicators", summary="Every indicator per wave in an area and period")
def indicators(
    request: Request,
    user: Tallies,
    db: SessionDep,
    settings: SettingsDep,
    since: Since = None,
    until: Until = None,
    area: AreaKey = CITY,
) -> list[IndicatorOut]:
    """The overview's figures: each indicator's waves with intervals, baseline and target."""
    _check_area(request, user, db, area)
    refs = views.indicators(db, settings.content_dir)
    fig = views.figures(
        db, settings.content_dir, int(settings.survey_min_cell), Period(since, until), settings.tz
    )
    return [_indicator(fig, ref, area, settings, "ja") for ref in refs]


@router.get(
    "/indicators/{indicator_id}",
    summary="One indicator per wave, and how representative its answers are",
    responses=NOT_FOUND,
)
def indicator(
    request: Request,
    indicator_id: Annotated[str, Path(max_length=80)],
    user: Tallies,
    db: SessionDep,
    settings: SettingsDep,
    since: Since = None,
    until: Until = None,
    area: AreaKey = CITY,
) -> IndicatorOut:
    """The indicator page's figures."""
    _check_area(request, user, db, area)
    ref = views.find_indicator(db, settings.content_dir, indicator_id)
    if ref is None:
        raise HTTPException(status_code=404, detail="no such indicator")
    fig = views.figures(
        db,
        settings.content_dir,
        int(settings.survey_min_cell),
        Period(since, until),
        settings.tz,
        {ref.survey.id},
    )
    return _indicator(fig, ref, area, settings, "ja")
