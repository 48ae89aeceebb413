"""The council report's figures under /api/v1 for the city's own dashboards: every table of
the report (membership, join funnel, participation, volunteering, notice coverage,
indicators) for an area and period, scoped like the pages."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel

from bot.core.hooks import CouncilQuery
from bot.core.report_areas import CITY, areas_in_scope, narrowed
from bot.core.scope import Permission
from bot.features.council import report as council_report
from bot.staff.api import ERRORS
from bot.staff.deps import ApiAccess, SessionDep, SettingsDep, StaffUser, words_for
from bot.staff.filters import AREA

router = APIRouter(prefix="/api/v1", tags=["staff API"], responses=ERRORS)

Tallies = Annotated[StaffUser, Depends(ApiAccess(Permission.VIEW_TALLIES))]

Cell = str | int | float | bool | None


class ColumnOut(BaseModel):
    """A column: the key of its cells in each row, and its Japanese header."""

    key: str
    header: str
    numeric: bool


class SectionOut(BaseModel):
    """One table of the council report, with the rows its page shows."""

    name: str
    title: str
    columns: list[ColumnOut]
    rows: list[dict[str, Cell]]


class ReportOut(BaseModel):
    """The council report of one area and period."""

    area: str
    title: str
    sections: list[SectionOut]


def _cell(value: object) -> Cell:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


@router.get("/council", summary="The council report's tables for an area and period")
def council(
    request: Request,
    user: Tallies,
    db: SessionDep,
    settings: SettingsDep,
    since: Annotated[date | None, Query(description="first day a wave may open on")] = None,
    until: Annotated[date | None, Query(description="last day a wave may open on")] = None,
    area: Annotated[
        str,
        Query(
            max_length=40,
            pattern=AREA,
            description="city, ward:<id> or district:<id> (within the token's scope)",
        ),
    ] = CITY,
) -> ReportOut:
    """The same tables as the PDF and the workbook (Japanese headers and labels)."""
    ja = words_for(request, "ja")
    chosen = next(
        (a for a in areas_in_scope(db, user.scope, ja("surveys.whole_city")) if a.key == area),
        None,
    )
    if chosen is None:
        raise HTTPException(status_code=403, detail="area outside the token's scope")
    query = CouncilQuery(
        scope=narrowed(db, user.scope, chosen.key),
        area=chosen.key,
        area_name=chosen.name,
        since=since,
        until=until,
        locale="ja",
        words=ja,
        settings=settings,
    )
    found = council_report.gather(db, query)
    return ReportOut(
        area=chosen.key,
        title=found.title,
        sections=[
            SectionOut(
                name=section.name,
                title=section.title,
                columns=[
                    ColumnOut(key=k, header=ja(label), numeric=n) for k, label, n in section.columns
                ],
                rows=[
                    {k: _cell(row.get(k)) for k, _l, _n in section.columns} for row in section.rows
                ],
            )
            for section in found.sections
        ],
    )
