"""Event pages: the list with RSVP and check-in totals, and one event's tally by association."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from bot.core.scope import Permission
from bot.features.events.models import Event
from bot.features.events.staff.diversity_view import busiest_share, diversity_table
from bot.features.events.staff.views import (
    EventNotFound,
    events_table,
    may_see_roster,
    scoped_event,
    tally_table,
)
from bot.settings import Settings
from bot.staff.charts import Bar, bar_chart
from bot.staff.deps import DbId, PageAccess, SessionDep, SettingsDep, StaffUser, words_for
from bot.staff.i18n import Translator
from bot.staff.tables import Table
from bot.staff.web import export_response, page

router = APIRouter(prefix="/staff", include_in_schema=False)


Events = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_EVENTS))]
EventsExport = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_EVENTS, Permission.EXPORT))]


@router.get("/events", response_class=HTMLResponse)
def events_page(
    request: Request, user: Events, db: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """Events in scope, newest first, with who is coming and who came."""
    return page(
        request,
        user,
        "events.html",
        table=events_table(db, user.scope, settings.tz),
        export_url="/staff/export/events.csv",
    )


@router.get("/export/events.csv")
def events_csv(
    request: Request, user: EventsExport, db: SessionDep, settings: SettingsDep
) -> Response:
    """The events list as CSV."""
    return export_response(request, user, events_table(db, user.scope, settings.tz))


def _tally(db: Session, t: Translator, user: StaffUser, event_id: int) -> tuple[Table, Event]:
    """`t`: Japanese labels, the same in page and CSV, so the numbers stay comparable."""
    try:
        event = scoped_event(db, user.scope, event_id)
    except EventNotFound:
        raise HTTPException(status_code=404) from None
    table = tally_table(
        db, user.scope, event_id, non_members=t("events.non_members"), total=t("events.total")
    )
    return table, event


@router.get("/events/{event_id}", response_class=HTMLResponse)
def event_page(request: Request, event_id: DbId, user: Events, db: SessionDep) -> HTMLResponse:
    """One event: answers, headcount and check-ins by association, walk-ins."""
    table, event = _tally(db, words_for(request, "ja"), user, event_id)
    t = words_for(request, user.locale)
    total = table.rows[-1]
    chart = bar_chart(
        [Bar(t(f"col.{k}"), total[k]) for k in ("going", "maybe", "checked_in")],
        title=t("events.chart"),
    )
    return page(
        request,
        user,
        "event_page.html",
        title="events.tally_title",
        subtitle=event.title,
        event=event,
        table=table,
        chart=chart,
        notes=table.notes,
        export_url=f"/staff/events/{event_id}/tally.csv",
        # Announce, roster and the door are one tap away for whoever may use them.
        may_manage=user.scope.can(Permission.MANAGE_EVENTS),
        may_see_roster=may_see_roster(db, user.scope, user.account.id, event),
    )


@router.get("/events/{event_id}/tally.csv")
def event_tally_csv(
    request: Request, event_id: DbId, user: EventsExport, db: SessionDep
) -> Response:
    """The event's tally as CSV."""
    table, _event = _tally(db, words_for(request, "ja"), user, event_id)
    return export_response(request, user, table)


def _diversity(db: Session, settings: Settings, user: StaffUser) -> tuple[Table, dict[str, str]]:
    table = diversity_table(db, user.scope, settings.tz)
    share, people, attendances = busiest_share(db, user.scope)
    notes = {
        "busiest_share": f"{share:.0%}" if share is not None else "-",
        "participants": f"{people:,}",
        "attendances": f"{attendances:,}",
    }
    return table, notes


@router.get("/diversity", response_class=HTMLResponse)
def diversity_page(
    request: Request, user: Events, db: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """First-timers and newcomers per event, and the busiest 10%'s share of attendances."""
    table, notes = _diversity(db, settings, user)
    return page(
        request,
        user,
        "table_page.html",
        title="diversity.title",
        table=table,
        notes=notes,
        export_url="/staff/export/diversity.csv",
    )


@router.get("/export/diversity.csv")
def diversity_csv(
    request: Request, user: EventsExport, db: SessionDep, settings: SettingsDep
) -> Response:
    """The per-event diversity table as CSV."""
    table, _notes = _diversity(db, settings, user)
    return export_response(request, user, table)
