"""Survey pages: indicators per wave against targets (with intervals), one wave by district."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from bot.core.scope import Permission
from bot.features.surveys.staff.views import (
    TrendPoint,
    WaveNotFound,
    indicator_trend,
    wave_table,
)
from bot.settings import Settings
from bot.staff.charts import Bar, bar_chart
from bot.staff.deps import (
    ContentDep,
    DbId,
    PageAccess,
    SessionDep,
    SettingsDep,
    StaffUser,
    words_for,
)
from bot.staff.tables import Table
from bot.staff.web import export_response, page

router = APIRouter(prefix="/staff", include_in_schema=False)


Tallies = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_TALLIES))]
TalliesExport = Annotated[
    StaffUser, Depends(PageAccess(Permission.VIEW_TALLIES, Permission.EXPORT))
]


def _min_cell(settings: Settings) -> int:
    return int(settings.survey_min_cell)


def _trend(db: Session, settings: Settings, locale: str) -> tuple[Table, list[TrendPoint]]:
    return indicator_trend(db, settings.content_dir, _min_cell(settings), locale)


@router.get("/surveys", response_class=HTMLResponse)
def surveys_page(
    request: Request,
    user: Tallies,
    db: SessionDep,
    settings: SettingsDep,
    content: ContentDep,
) -> HTMLResponse:
    """Each indicator's share per wave, its 95% interval, target and baseline."""
    table, points = _trend(db, settings, user.locale)
    t = words_for(request, user.locale)
    bars = [Bar(f"{p.wave}", (p.share or 0) * 100, p.target) for p in points]
    chart = bar_chart(bars, title=t("surveys.chart"), unit="%") if bars else None
    caveat = content.text("survey.caveat_line_respondents", "en" if user.locale == "en" else "ja")
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
def indicators_csv(
    request: Request, user: TalliesExport, db: SessionDep, settings: SettingsDep
) -> Response:
    """The indicators table as CSV (Japanese names)."""
    table, _points = _trend(db, settings, "ja")
    return export_response(request, user, table)


def _wave(
    db: Session, settings: Settings, whole_city: str, user: StaffUser, wave_id: int
) -> tuple[Table, str]:
    try:
        table, survey, wave = wave_table(
            db, user.scope, settings.content_dir, wave_id, _min_cell(settings), whole_city
        )
    except WaveNotFound:
        raise HTTPException(status_code=404) from None
    return table, f"{survey.title.get('ja', survey.id)} {wave.wave_key}"


@router.get("/surveys/{wave_id}", response_class=HTMLResponse)
def wave_page(
    request: Request, wave_id: DbId, user: Tallies, db: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """One wave by question and district (small cells suppressed)."""
    whole_city = words_for(request, "ja")("surveys.whole_city")
    table, title = _wave(db, settings, whole_city, user, wave_id)
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
    whole_city = words_for(request, "ja")("surveys.whole_city")
    table, _title = _wave(db, settings, whole_city, user, wave_id)
    return export_response(request, user, table)
