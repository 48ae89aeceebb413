"""Volunteering for staff: places filled, asks answered, hours, the busiest 10%'s load, and
the opportunities in scope with the form to create one (opportunity_routes.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from bot.content import Content
from bot.core.scope import Permission, Scope, association_ids_in_scope, visible_associations
from bot.features.volunteers import tallies as volunteer_tallies
from bot.features.volunteers.catalog import load_catalog
from bot.features.volunteers.staff.opportunities_view import events_for_form, opportunities_table
from bot.features.volunteers.staff.opportunity_forms import OpportunityForm
from bot.settings import Settings
from bot.staff.deps import (
    ContentDep,
    NowDep,
    PageAccess,
    SessionDep,
    SettingsDep,
    StaffUser,
)
from bot.staff.tables import Column, Table
from bot.staff.web import export_response, page

router = APIRouter(prefix="/staff", include_in_schema=False)


Viewer = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_EVENTS))]
ViewerExport = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_EVENTS, Permission.EXPORT))]

HOURS_COLUMNS = [
    Column("association", "col.association"),
    Column("shifts", "col.shifts", numeric=True),
    Column("hours", "col.hours", numeric=True),
    Column("points", "col.points", numeric=True),
]


def volunteer_figures(session: Session, scope: Scope) -> tuple[Table, dict[str, str]]:
    """Hours per association in scope, and the headline figures beside them."""
    ids = association_ids_in_scope(session, scope)
    names = {a.id: a.name for a, _d, _w in visible_associations(session, scope)}
    order = {association_id: i for i, association_id in enumerate(names)}
    hours = sorted(
        (
            h
            for h in volunteer_tallies.hours_by_association(session, ids)
            if scope.city_wide or h.association_id in names
        ),
        key=lambda h: order.get(h.association_id, len(order)),  # the overview's order
    )
    rows = [
        {
            "association": names.get(h.association_id, "") if h.association_id else "-",
            "shifts": h.shifts,
            "hours": round(h.hours, 1),
            "points": h.points,
        }
        for h in hours
    ]
    slots = volunteer_tallies.slot_counts(session, ids)
    offers = volunteer_tallies.offer_counts(session, ids)
    share = volunteer_tallies.busiest_share(session, ids)
    notes = {
        "places": f"{slots.places_filled} / {slots.places_needed}",
        "open_slots": str(slots.open_slots),
        "asks": f"{offers['accepted']} / {offers['sent']}",
        "signups": str(offers["signups"]),
        "cancelled": str(offers["cancelled"]),
        "volunteer_busiest_share": f"{share:.0%}" if share is not None else "-",
    }
    return Table("volunteer-hours", HOURS_COLUMNS, rows), notes


def volunteers_view(
    request: Request,
    user: StaffUser,
    db: Session,
    settings: Settings,
    content: Content,
    now: datetime,
    *,
    form: OpportunityForm | None = None,
    errors: list[str] | tuple[str, ...] = (),
    status_code: int = 200,
) -> HTMLResponse:
    """The volunteering page; `form` and `errors` refill a refused opportunity form."""
    can_manage = user.scope.can(Permission.MANAGE_VOLUNTEERS)
    table, notes = volunteer_figures(db, user.scope)
    opportunities = opportunities_table(db, user.scope, settings.tz)
    associations = [a for a, _d, _w in visible_associations(db, user.scope)]
    events = events_for_form(db, user.scope, now) if can_manage else []
    catalog = load_catalog(settings.content_dir)
    locale = user.locale
    choices = {
        "interests": [(c, content.text(f"volunteer.tags.{c}", locale)) for c in catalog.interests],
        "skills": [(c, content.text(f"volunteer.skills.{c}", locale)) for c in catalog.skills],
    }
    return page(
        request,
        user,
        "volunteers.html",
        table=table,
        notes=notes,
        opportunities=opportunities,
        associations=associations,
        events=events,
        choices=choices,
        can_manage=can_manage,
        form=form or OpportunityForm(),
        errors=list(errors),
        status_code=status_code,
        export_url="/staff/export/volunteer-hours.csv",
        opportunities_export_url="/staff/export/volunteer-opportunities.csv",
    )


@router.get("/volunteers", response_class=HTMLResponse)
def volunteers_page(
    request: Request,
    user: Viewer,
    db: SessionDep,
    settings: SettingsDep,
    content: ContentDep,
    now: NowDep,
) -> HTMLResponse:
    """Places filled against needed, asks accepted, hours per association, load concentration,
    the opportunities in scope, and (for organisers) the form to create one."""
    return volunteers_view(request, user, db, settings, content, now)


@router.get("/export/volunteer-opportunities.csv")
def opportunities_csv(
    request: Request, user: ViewerExport, db: SessionDep, settings: SettingsDep
) -> Response:
    """The opportunities list as CSV."""
    table = opportunities_table(db, user.scope, settings.tz)
    return export_response(request, user, table)


@router.get("/export/volunteer-hours.csv")
def volunteers_csv(request: Request, user: ViewerExport, db: SessionDep) -> Response:
    """Hours per association as CSV."""
    table, _notes = volunteer_figures(db, user.scope)
    return export_response(request, user, table)
