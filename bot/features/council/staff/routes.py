"""The council report: pick an area and period, read the tables, download the PDF and xlsx."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from bot.core import audit
from bot.core.hooks import CouncilQuery
from bot.core.report_areas import CITY, Area, areas_in_scope, narrowed
from bot.core.scope import Permission
from bot.features.council import report as council_report
from bot.staff.deps import (
    ContentDep,
    NowDep,
    PageAccess,
    SessionDep,
    SettingsDep,
    StaffUser,
    words_for,
)
from bot.staff.filters import AreaKey, Since, Until, day_of
from bot.staff.i18n import Translator
from bot.staff.pdf import pdf_response
from bot.staff.web import page
from bot.staff.xlsx_export import xlsx_response

router = APIRouter(prefix="/staff", include_in_schema=False)

Tallies = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_TALLIES))]
TalliesExport = Annotated[
    StaffUser, Depends(PageAccess(Permission.VIEW_TALLIES, Permission.EXPORT))
]


def _area(db: Session, user: StaffUser, area: str, words: Translator) -> tuple[Area, list[Area]]:
    areas = areas_in_scope(db, user.scope, words("surveys.whole_city"), words.locale)
    chosen = next((a for a in areas if a.key == area), None)
    if chosen is None:
        raise HTTPException(status_code=404)
    return chosen, areas


def _query(
    db: Session,
    user: StaffUser,
    chosen: Area,
    since: date | None,
    until: date | None,
    locale: str,
    words: Translator,
    settings: object,
) -> CouncilQuery:
    return CouncilQuery(
        scope=narrowed(db, user.scope, chosen.key),
        area=chosen.key,
        area_name=chosen.name,
        since=since,
        until=until,
        locale=locale,
        words=words,
        settings=settings,
    )


def _link(since: date | None, until: date | None, area: str) -> str:
    parts = [f"area={area}"]
    parts += [f"since={since.isoformat()}"] if since else []
    parts += [f"until={until.isoformat()}"] if until else []
    return "&".join(parts)


@router.get("/council", response_class=HTMLResponse)
def council_page(
    request: Request,
    user: Tallies,
    db: SessionDep,
    settings: SettingsDep,
    since: Since = "",
    until: Until = "",
    area: AreaKey = CITY,
) -> HTMLResponse:
    """The report's tables for an area and period, with its PDF and workbook to download."""
    day_from, day_to = day_of(since), day_of(until)
    t = words_for(request, user.locale)
    chosen, areas = _area(db, user, area, t)
    found = council_report.gather(
        db, _query(db, user, chosen, day_from, day_to, user.locale, t, settings)
    )
    query = _link(day_from, day_to, area)
    return page(
        request,
        user,
        "council.html",
        report=found,
        tables=found.tables(),
        areas=areas,
        area=chosen,
        since=day_from,
        until=day_to,
        query=query,
    )


def _download(
    request: Request,
    user: StaffUser,
    db: Session,
    settings: object,
    now: object,
    chosen: Area,
    since: date | None,
    until: date | None,
    kind: str,
) -> tuple[council_report.Report, Translator, str]:
    ja = words_for(request, "ja")
    found = council_report.gather(db, _query(db, user, chosen, since, until, "ja", ja, settings))
    audit.record(
        db,
        account_id=user.account.id,
        action="export",
        now=now,  # type: ignore[arg-type]
        target_type="council_report",
        target_id=f"{chosen.key}:{kind}",
        rows=sum(len(s.rows) for s in found.sections),
    )
    stamp = now.astimezone(settings.tz).strftime("%Y%m%d-%H%M")  # type: ignore[attr-defined]
    return found, ja, stamp


@router.get("/council/report.pdf")
def council_pdf(
    request: Request,
    user: TalliesExport,
    db: SessionDep,
    settings: SettingsDep,
    content: ContentDep,
    now: NowDep,
    since: Since = "",
    until: Until = "",
    area: AreaKey = CITY,
) -> Response:
    """The printable report (A4, Japanese)."""
    day_from, day_to = day_of(since), day_of(until)
    chosen, _areas = _area(db, user, area, words_for(request, "ja"))
    found, ja, stamp = _download(request, user, db, settings, now, chosen, day_from, day_to, "pdf")
    made_at = now.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
    caveat = content.text("survey.caveat_line_respondents", "ja")
    body = council_report.to_pdf(found, ja, made_at, caveat)
    return pdf_response(body, f"council-{chosen.key.replace(':', '-')}-{stamp}.pdf")


@router.get("/council/report.xlsx")
def council_xlsx(
    request: Request,
    user: TalliesExport,
    db: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    since: Since = "",
    until: Until = "",
    area: AreaKey = CITY,
) -> Response:
    """The report's tables as a workbook, one sheet per table, Japanese headers."""
    day_from, day_to = day_of(since), day_of(until)
    chosen, _areas = _area(db, user, area, words_for(request, "ja"))
    found, ja, stamp = _download(request, user, db, settings, now, chosen, day_from, day_to, "xlsx")
    body = council_report.to_xlsx(found, ja)
    return xlsx_response(body, f"council-{chosen.key.replace(':', '-')}-{stamp}.xlsx")
