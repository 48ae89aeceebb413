"""Organisers' volunteer opportunities: create one with its first slot, add slots, call a slot
off, and confirm after a shift who came. Reading needs VIEW_EVENTS; changing needs
MANAGE_VOLUNTEERS and an opportunity in the caller's scope. Every change is audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from bot.content import Content
from bot.core import audit
from bot.core.scope import Permission
from bot.features.volunteers import cancel as volunteer_cancel
from bot.features.volunteers import shifts as volunteer_shifts
from bot.features.volunteers import volunteers
from bot.features.volunteers.catalog import load_catalog
from bot.features.volunteers.messages import tell
from bot.features.volunteers.staff.opportunities_view import (
    OpportunityNotFound,
    roster,
    scoped_opportunity,
    scoped_slot,
    slots_of,
    slots_table,
)
from bot.features.volunteers.staff.opportunity_forms import (
    OpportunityForm,
    OpportunityValues,
    SlotForm,
    check_opportunity,
    check_slot,
)
from bot.features.volunteers.staff.routes import volunteers_view
from bot.settings import Settings
from bot.staff.deps import (
    ContentDep,
    Csrf,
    DbId,
    NotifierDep,
    NowDep,
    PageAccess,
    SessionDep,
    SettingsDep,
    StaffUser,
)
from bot.staff.web import export_response, page

router = APIRouter(prefix="/staff", include_in_schema=False)

Viewer = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_EVENTS))]
ViewerExport = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_EVENTS, Permission.EXPORT))]
Manager = Annotated[StaffUser, Depends(PageAccess(Permission.MANAGE_VOLUNTEERS))]
Text = Annotated[str, Form(max_length=2000)]
Codes = Annotated[list[str], Form()]
DONE = ("created", "slot_added", "slot_cancelled", "attendance", "not_live")


def _scoped_or_404(db: Session, user: StaffUser, opportunity_id: int) -> Any:
    try:
        return scoped_opportunity(db, user.scope, opportunity_id)
    except OpportunityNotFound:
        raise HTTPException(status_code=404) from None


@router.post("/volunteers/opportunities")
def opportunity_create(
    request: Request,
    user: Manager,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    content: ContentDep,
    association_id: Text = "",
    role: Text = "",
    description: Text = "",
    interests: Codes = [],  # noqa: B006 - FastAPI copies form defaults per request
    skills: Codes = [],  # noqa: B006
    event_id: Text = "",
    day: Text = "",
    start: Text = "",
    end: Text = "",
    place: Text = "",
    needed: Text = "1",
) -> Response:
    """Create an opportunity with its first slot; matching asks residents on its next run."""
    form = OpportunityForm(
        association_id,
        role,
        description,
        list(interests),
        list(skills),
        event_id,
        SlotForm(day, start, end, place, needed),
    )
    values, errors = check_opportunity(
        db, user.scope, form, load_catalog(settings.content_dir), settings.tz, now
    )
    if values is None:  # nothing was stored: the form comes back with what was typed
        return volunteers_view(
            request, user, db, settings, content, now, form=form, errors=errors, status_code=400
        )
    opportunity_id = _create(db, user, values, settings.tz, now)
    return RedirectResponse(
        f"/staff/volunteers/opportunities/{opportunity_id}?done=created", status_code=303
    )


def _create(
    db: Session, user: StaffUser, values: OpportunityValues, tz: ZoneInfo, now: datetime
) -> int:
    opportunity = volunteers.create_opportunity(
        db,
        role=values.role,
        interests=values.interests,
        now=now,
        description=values.description,
        needed_skills=values.skills,
        association_id=values.association_id,
        event_id=values.event_id,
        organiser_staff_id=user.account.id,
    )
    slot = values.slot
    volunteers.add_slot(
        db,
        opportunity_id=int(opportunity.id or 0),
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        needed=slot.needed,
        place=slot.place,
        tz=tz,
    )
    audit.record(
        db,
        account_id=user.account.id,
        action="opportunity_created",
        now=now,
        target_type="opportunity",
        target_id=opportunity.id,
    )
    return int(opportunity.id or 0)


def _detail(
    request: Request,
    user: StaffUser,
    db: Session,
    settings: Settings,
    content: Content,
    now: datetime,
    opportunity_id: int,
    *,
    slot_form: SlotForm | None = None,
    errors: list[str] | tuple[str, ...] = (),
    status_code: int = 200,
) -> HTMLResponse:
    locale = user.locale
    opportunity = _scoped_or_404(db, user, opportunity_id)
    table = slots_table(db, opportunity_id, settings.tz)
    slots = slots_of(db, opportunity_id)
    rosters = {
        s.id: roster(db, user.scope, s)
        for s in slots
        if s.status in volunteer_cancel.LIVE_SLOT and s.starts_at <= now
    }
    labels = {
        "interests": [content.text(f"volunteer.tags.{c}", locale) for c in opportunity.interests],
        "skills": [
            content.text(f"volunteer.skills.{c}", locale) for c in opportunity.needed_skills
        ],
    }
    done = request.query_params.get("done")
    return page(
        request,
        user,
        "opportunity.html",
        opportunity=opportunity,
        table=table,
        slots=slots,
        rosters=rosters,
        labels=labels,
        now=now,
        can_manage=user.scope.can(Permission.MANAGE_VOLUNTEERS),
        slot_form=slot_form or SlotForm(),
        errors=list(errors),
        done=done if done in DONE else None,
        status_code=status_code,
        export_url=f"/staff/volunteers/opportunities/{opportunity_id}/slots.csv",
    )


@router.get("/volunteers/opportunities/{opportunity_id}", response_class=HTMLResponse)
def opportunity_page(
    request: Request,
    opportunity_id: DbId,
    user: Viewer,
    db: SessionDep,
    settings: SettingsDep,
    content: ContentDep,
    now: NowDep,
) -> HTMLResponse:
    """One opportunity: its slots, forms to add or call off slots, and who came."""
    return _detail(request, user, db, settings, content, now, opportunity_id)


@router.get("/volunteers/opportunities/{opportunity_id}/slots.csv")
def opportunity_slots_csv(
    request: Request,
    opportunity_id: DbId,
    user: ViewerExport,
    db: SessionDep,
    settings: SettingsDep,
) -> Response:
    """The opportunity's slots as CSV."""
    _scoped_or_404(db, user, opportunity_id)
    table = slots_table(db, opportunity_id, settings.tz)
    return export_response(request, user, table)


@router.post("/volunteers/opportunities/{opportunity_id}/slots")
def slot_add(
    request: Request,
    opportunity_id: DbId,
    user: Manager,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    content: ContentDep,
    day: Text = "",
    start: Text = "",
    end: Text = "",
    place: Text = "",
    needed: Text = "1",
) -> Response:
    """Add a slot to an opportunity in scope."""
    form = SlotForm(day, start, end, place, needed)
    errors: list[str] = []
    _scoped_or_404(db, user, opportunity_id)
    values = check_slot(form, settings.tz, now, errors)
    if values is None:  # nothing was stored: the form comes back with what was typed
        return _detail(
            request,
            user,
            db,
            settings,
            content,
            now,
            opportunity_id,
            slot_form=form,
            errors=errors,
            status_code=400,
        )
    slot = volunteers.add_slot(
        db,
        opportunity_id=opportunity_id,
        starts_at=values.starts_at,
        ends_at=values.ends_at,
        needed=values.needed,
        place=values.place,
        tz=settings.tz,
    )
    audit.record(
        db,
        account_id=user.account.id,
        action="slot_added",
        now=now,
        target_type="slot",
        target_id=slot.id,
    )
    return RedirectResponse(
        f"/staff/volunteers/opportunities/{opportunity_id}?done=slot_added", status_code=303
    )


def _slot_or_404(db: Session, user: StaffUser, slot_id: int) -> Any:
    try:
        return scoped_slot(db, user.scope, slot_id)
    except OpportunityNotFound:
        raise HTTPException(status_code=404) from None


@router.post("/volunteers/slots/{slot_id}/cancel")
def slot_cancel(
    slot_id: DbId,
    user: Manager,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    notifier: NotifierDep,
) -> Response:
    """Call a slot off: asks and accepted places withdrawn, those residents told on LINE."""
    _slot, opportunity = _slot_or_404(db, user, slot_id)
    withdrawn = volunteer_cancel.cancel_slot(db, slot_id=slot_id, now=now)
    told = None if withdrawn is None else tell(notifier, db, now, withdrawn)
    if told is not None:
        audit.record(
            db,
            account_id=user.account.id,
            action="slot_cancelled",
            now=now,
            target_type="slot",
            target_id=slot_id,
            told=told,
        )
    opportunity_id = opportunity.id
    done = "slot_cancelled" if told is not None else "not_live"
    return RedirectResponse(
        f"/staff/volunteers/opportunities/{opportunity_id}?done={done}", status_code=303
    )


@router.post("/volunteers/slots/{slot_id}/attendance")
def slot_attendance(
    slot_id: DbId,
    user: Manager,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    notifier: NotifierDep,
    came: Annotated[list[int], Form()] = [],  # noqa: B006
) -> Response:
    """After the shift: who came gets hours, points and thanks; the others are recorded absent."""
    slot, opportunity = _slot_or_404(db, user, slot_id)
    done = "not_live"
    if slot.status in volunteer_cancel.LIVE_SLOT and slot.starts_at <= now:
        recorded = volunteer_shifts.confirm_attendance(
            db,
            slot_id=slot_id,
            attended=came,
            now=now,
            settings=settings,
            staff_id=user.account.id,
        )
        tell(notifier, db, now, recorded.tells)
        shifts = recorded.shifts
        audit.record(
            db,
            account_id=user.account.id,
            action="attendance_confirmed",
            now=now,
            target_type="slot",
            target_id=slot_id,
            came=sum(1 for s in shifts if s.attended),
            recorded=len(shifts),
        )
        done = "attendance"
    opportunity_id = opportunity.id
    return RedirectResponse(
        f"/staff/volunteers/opportunities/{opportunity_id}?done={done}", status_code=303
    )
