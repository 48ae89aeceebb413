"""Survey pages: indicators against targets (overview and one page per indicator, filtered by
period and area), how representative the answers are, and one wave by ward and district."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlmodel import Session

from bot.core.scope import Permission
from bot.features.surveys.results import CITY
from bot.features.surveys.staff import views
from bot.features.surveys.staff.views import AreaNotAllowed, IndicatorRef, Period, WaveNotFound
from bot.settings import Settings
from bot.staff.charts import trend_chart
from bot.staff.deps import (
    ContentDep,
    DbId,
    PageAccess,
    SessionDep,
    SettingsDep,
    StaffUser,
    words_for,
)
from bot.staff.filters import AreaKey, Since, Until, day_of
from bot.staff.i18n import Translator
from bot.staff.tables import Table
from bot.staff.web import export_response, page

router = APIRouter(prefix="/staff", include_in_schema=False)


Tallies = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_TALLIES))]
TalliesExport = Annotated[
    StaffUser, Depends(PageAccess(Permission.VIEW_TALLIES, Permission.EXPORT))
]


def _min_cell(settings: Settings) -> int:
    return int(settings.survey_min_cell)


def _area(db: Session, user: StaffUser, area: str, words: Translator) -> views.Area:
    try:
        return views.check_area(db, user.scope, area, words)
    except AreaNotAllowed:
        raise HTTPException(status_code=404) from None


def _indicator(db: Session, settings: Settings, indicator_id: str) -> IndicatorRef:
    ref = views.find_indicator(db, settings.content_dir, indicator_id)
    if ref is None:
        raise HTTPException(status_code=404)
    return ref


def _query(since: date | None, until: date | None, area: str) -> str:
    parts = [f"area={area}"]
    parts += [f"since={since.isoformat()}"] if since else []
    parts += [f"until={until.isoformat()}"] if until else []
    return "&".join(parts)


def _chart(
    fig: views.Figures,
    ref: IndicatorRef,
    area: str,
    chosen: views.Area,
    t: Translator,
    locale: str,
) -> Markup:
    name = views.indicator_name(ref, locale)
    return trend_chart(
        views.trend_marks(fig, ref, area),
        title=t("surveys.trend_title", indicator=name, area=chosen.name),
        y_label=t("col.share"),
        references=views.reference_lines(ref, t),
        hidden_label=t(views.SUPPRESSED),
    )


@router.get("/surveys", response_class=HTMLResponse)
def surveys_page(
    request: Request,
    user: Tallies,
    db: SessionDep,
    settings: SettingsDep,
    content: ContentDep,
    since: Since = "",
    until: Until = "",
    area: AreaKey = CITY,
) -> HTMLResponse:
    """Each indicator's share per wave in the chosen area and period, against its target."""
    day_from, day_to = day_of(since), day_of(until)
    t = words_for(request, user.locale)
    chosen = _area(db, user, area, t)
    refs = views.indicators(db, settings.content_dir)
    fig = views.figures(
        db,
        settings.content_dir,
        _min_cell(settings),
        Period(day_from, day_to),
        settings.tz,
        locale=user.locale,
    )
    table = views.trend_table(fig, refs, area, t, user.locale)
    cards = []
    for ref in refs:
        series = fig.series(ref, area)
        last = series[-1] if series else None
        cards.append(
            {
                "ref": ref,
                "name": views.indicator_name(ref, user.locale),
                "wave": last[0].wave_key if last else "",
                "cells": views.row_cells(last[1] if last else None, t) if last else None,
                "chart": _chart(fig, ref, area, chosen, t, user.locale) if series else None,
            }
        )
    caveat = content.text("survey.caveat_line_respondents", "en" if user.locale == "en" else "ja")
    query = _query(day_from, day_to, area)
    return page(
        request,
        user,
        "surveys.html",
        table=table,
        cards=cards,
        caveat=caveat,
        areas=views.areas_in_scope(db, user.scope, t),
        area=chosen,
        since=day_from,
        until=day_to,
        query=query,
        export_url=f"/staff/export/indicators.csv?{query}",
    )


@router.get("/export/indicators.csv")
def indicators_csv(
    request: Request,
    user: TalliesExport,
    db: SessionDep,
    settings: SettingsDep,
    since: Since = "",
    until: Until = "",
    area: AreaKey = CITY,
) -> Response:
    """The indicators table as CSV (Japanese names)."""
    day_from, day_to = day_of(since), day_of(until)
    ja = words_for(request, "ja")
    _area(db, user, area, ja)
    refs = views.indicators(db, settings.content_dir)
    fig = views.figures(
        db, settings.content_dir, _min_cell(settings), Period(day_from, day_to), settings.tz
    )
    return export_response(request, user, views.trend_table(fig, refs, area, ja, "ja"))


@router.get("/surveys/indicators/{indicator_id}", response_class=HTMLResponse)
def indicator_page(
    request: Request,
    indicator_id: str,
    user: Tallies,
    db: SessionDep,
    settings: SettingsDep,
    content: ContentDep,
    since: Since = "",
    until: Until = "",
    area: AreaKey = CITY,
) -> HTMLResponse:
    """One indicator: trend with intervals against baseline and target, and who answered."""
    day_from, day_to = day_of(since), day_of(until)
    t = words_for(request, user.locale)
    chosen = _area(db, user, area, t)
    ref = _indicator(db, settings, indicator_id)
    fig = views.figures(
        db,
        settings.content_dir,
        _min_cell(settings),
        Period(day_from, day_to),
        settings.tz,
        {ref.survey.id},
        locale=user.locale,
    )
    name = views.indicator_name(ref, user.locale)
    table = views.series_table(fig, ref, area, t, settings.tz)
    chart = _chart(fig, ref, area, chosen, t, user.locale) if fig.series(ref, area) else None
    represented = views.representation_of(fig, ref, area, settings.content_dir)
    rep_tables = None
    if represented is not None:
        wave, rep = represented
        base = f"indicator-{ref.indicator.id}"
        rep_tables = {
            "wave": wave.wave_key,
            "channels": views.channel_table(rep, t, base),
            "strata": views.strata_table(rep, t, base),
            "estimates": views.estimate_table(rep, t, base),
            "population_loaded": rep.population_loaded,
            "population_sample": rep.population_sample,
            "association": chosen.level == "association",
        }
    caveat = content.text("survey.caveat_line_respondents", "en" if user.locale == "en" else "ja")
    query = _query(day_from, day_to, area)
    return page(
        request,
        user,
        "indicator.html",
        ref=ref,
        name=name,
        table=table,
        chart=chart,
        rep=rep_tables,
        caveat=caveat,
        areas=views.areas_in_scope(db, user.scope, t),
        area=chosen,
        since=day_from,
        until=day_to,
        query=query,
        export_url=f"/staff/surveys/indicators/{ref.indicator.id}/series.csv?{query}",
    )


@router.get("/surveys/indicators/{indicator_id}/series.csv")
def indicator_csv(
    request: Request,
    indicator_id: str,
    user: TalliesExport,
    db: SessionDep,
    settings: SettingsDep,
    since: Since = "",
    until: Until = "",
    area: AreaKey = CITY,
) -> Response:
    """One indicator's waves in one area as CSV."""
    day_from, day_to = day_of(since), day_of(until)
    ja = words_for(request, "ja")
    _area(db, user, area, ja)
    ref = _indicator(db, settings, indicator_id)
    fig = views.figures(
        db,
        settings.content_dir,
        _min_cell(settings),
        Period(day_from, day_to),
        settings.tz,
        {ref.survey.id},
    )
    return export_response(request, user, views.series_table(fig, ref, area, ja, settings.tz))


def _wave(
    db: Session, settings: Settings, words: Translator, locale: str, user: StaffUser, wave_id: int
) -> tuple[Table, str]:
    try:
        table, survey, wave = views.wave_table(
            db, user.scope, settings.content_dir, wave_id, _min_cell(settings), words, locale
        )
    except WaveNotFound:
        raise HTTPException(status_code=404) from None
    return table, f"{survey.title.get(locale) or survey.title['ja']} {wave.wave_key}"


@router.get("/surveys/{wave_id}", response_class=HTMLResponse)
def wave_page(
    request: Request, wave_id: DbId, user: Tallies, db: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """One wave by question, ward and district (small cells suppressed)."""
    t = words_for(request, user.locale)
    table, title = _wave(db, settings, t, user.locale, user, wave_id)
    return page(
        request,
        user,
        "table_page.html",
        title="surveys.wave_title",
        subtitle=title,
        table=table,
        export_url=f"/staff/surveys/{wave_id}/results.csv",
    )


@router.get("/surveys/{wave_id}/results.csv")
def wave_csv(
    request: Request, wave_id: DbId, user: TalliesExport, db: SessionDep, settings: SettingsDep
) -> Response:
    """One wave's results as CSV."""
    ja = words_for(request, "ja")
    table, _title = _wave(db, settings, ja, "ja", user, wave_id)
    return export_response(request, user, table)
