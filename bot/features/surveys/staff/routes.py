"""Survey pages: indicators per wave against targets (with intervals), one wave by district."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from bot.core.scope import Permission
from bot.db import session_scope
from bot.features.surveys.staff.views import WaveNotFound, indicator_trend, wave_table
from bot.staff.charts import Bar, bar_chart
from bot.staff.deps import DbId, PageAccess, StaffUser, engine_of, words_for
from bot.staff.tables import Table
from bot.staff.web import export_response, page

router = APIRouter(prefix="/staff", include_in_schema=False)


Tallies = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_TALLIES))]
TalliesExport = Annotated[
    StaffUser, Depends(PageAccess(Permission.VIEW_TALLIES, Permission.EXPORT))
]


def _min_cell(request: Request) -> int:
    return int(request.app.state.settings.survey_min_cell)


def _trend(request: Request, locale: str):  # type: ignore[no-untyped-def]
    settings = request.app.state.settings
    with session_scope(engine_of(request)) as db:
        return indicator_trend(db, settings.content_dir, _min_cell(request), locale)


@router.get("/surveys", response_class=HTMLResponse)
def surveys_page(request: Request, user: Tallies) -> HTMLResponse:
    """Each indicator's share per wave, its 95% interval, target and baseline."""
    table, points = _trend(request, user.locale)
    t = words_for(request, user.locale)
    bars = [Bar(f"{p.wave}", (p.share or 0) * 100, p.target) for p in points]
    chart = bar_chart(bars, title=t("surveys.chart"), unit="%") if bars else None
    caveat = request.app.state.content.text(
        "survey.caveat_line_respondents", "en" if user.locale == "en" else "ja"
    )
    return page(
        request,
        user,
        "surveys.html",
        table=table,
        chart=chart,
        caveat=caveat,
        export_url="/staff/export/indicators.csv",
    )


@router.get("/export/indicators.csv")
def indicators_csv(request: Request, user: TalliesExport) -> Response:
    """The indicators table as CSV (Japanese names)."""
    table, _points = _trend(request, "ja")
    return export_response(request, user, table)


def _wave(request: Request, user: StaffUser, wave_id: int) -> tuple[Table, str]:
    settings = request.app.state.settings
    whole_city = words_for(request, "ja")("surveys.whole_city")
    with session_scope(engine_of(request)) as db:
        try:
            table, survey, wave = wave_table(
                db, user.scope, settings.content_dir, wave_id, _min_cell(request), whole_city
            )
        except WaveNotFound:
            raise HTTPException(status_code=404) from None
    return table, f"{survey.title.get('ja', survey.id)} {wave.wave_key}"


@router.get("/surveys/{wave_id}", response_class=HTMLResponse)
def wave_page(request: Request, wave_id: DbId, user: Tallies) -> HTMLResponse:
    """One wave by question and district (small cells suppressed)."""
    table, title = _wave(request, user, wave_id)
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
def wave_csv(request: Request, wave_id: DbId, user: TalliesExport) -> Response:
    """One wave's results as CSV."""
    table, _title = _wave(request, user, wave_id)
    return export_response(request, user, table)
