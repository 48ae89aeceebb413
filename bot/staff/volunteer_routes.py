"""Volunteering for staff: places filled, asks answered, hours, and the busiest 10%'s load."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from bot.db import session_scope
from bot.services import volunteer_tallies
from bot.services.scope import Permission, Scope, association_ids_in_scope, visible_associations
from bot.staff.deps import PageAccess, StaffUser, engine_of
from bot.staff.tables import Column, Table
from bot.staff.web import NavItem, add_nav, export_response, page

router = APIRouter(prefix="/staff", include_in_schema=False)

add_nav(NavItem("nav.volunteers", "/staff/volunteers", Permission.VIEW_EVENTS, 45))

Viewer = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_EVENTS))]
ViewerExport = Annotated[
    StaffUser, Depends(PageAccess(Permission.VIEW_EVENTS, Permission.EXPORT))
]

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
        (h for h in volunteer_tallies.hours_by_association(session, ids)
         if scope.city_wide or h.association_id in names),
        key=lambda h: order.get(h.association_id, len(order)),  # the overview's order
    )
    rows = [
        {"association": names.get(h.association_id, "") if h.association_id else "-",
         "shifts": h.shifts, "hours": round(h.hours, 1), "points": h.points}
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
        "volunteer_busiest_share": f"{share:.0%}" if share is not None else "-",
    }
    return Table("volunteer-hours", HOURS_COLUMNS, rows), notes


def _figures(request: Request, user: StaffUser) -> tuple[Table, dict[str, str]]:
    with session_scope(engine_of(request)) as db:
        return volunteer_figures(db, user.scope)


@router.get("/volunteers", response_class=HTMLResponse)
def volunteers_page(request: Request, user: Viewer) -> HTMLResponse:
    """Places filled against needed, asks accepted, hours per association, load concentration."""
    table, notes = _figures(request, user)
    return page(request, user, "table_page.html", title="volunteers.title", table=table,
                notes=notes, export_url="/staff/export/volunteer-hours.csv")


@router.get("/export/volunteer-hours.csv")
def volunteers_csv(request: Request, user: ViewerExport) -> Response:
    """Hours per association as CSV."""
    table, _notes = _figures(request, user)
    return export_response(request, user, table)
