"""Event authoring pages: create, edit, publish and cancel an event of an association in scope.

Routes only route: the form is parsed by event_form.py, scope is checked by `Scope`, and what
residents are told about an edit or a cancellation is decided by bot/features/events/events.py.
Included before event_routes so that /staff/events/new is not read as an event id.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.core import audit
from bot.core.readability import readability
from bot.core.scope import Permission, visible_associations
from bot.features.events import events, messages
from bot.features.events.models import Event
from bot.features.events.staff.form import (
    AUDIENCES,
    CATEGORIES,
    EventForm,
    parse_event_form,
    raw_of,
)
from bot.features.events.staff.views import EventNotFound, scoped_event
from bot.staff import once
from bot.staff.deps import (
    Csrf,
    DbId,
    NotifierDep,
    NowDep,
    PageAccess,
    SessionDep,
    SettingsDep,
    StaffUser,
)
from bot.staff.web import page

router = APIRouter(prefix="/staff", include_in_schema=False)

Organiser = Annotated[StaffUser, Depends(PageAccess(Permission.MANAGE_EVENTS))]
DONE = ("created", "saved", "published", "cancelled")


def _form_page(
    request: Request,
    db: Session,
    user: StaffUser,
    form: EventForm,
    *,
    event: Event | None,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    associations = [a for a, _d, _w in visible_associations(db, user.scope)]
    response = page(
        request,
        user,
        "event_form.html",
        form=form,
        event=event,
        associations=associations,
        categories=CATEGORIES,
        audiences=AUDIENCES,
        readability=readability(form.raw.get("description", "")),
        **extra,
    )
    response.status_code = status_code
    return response


def _scoped(db: Session, user: StaffUser, event_id: int) -> Event:
    try:
        return scoped_event(db, user.scope, event_id)
    except EventNotFound:
        raise HTTPException(status_code=404) from None


@router.get("/events/new", response_class=HTMLResponse)
def new_event_page(request: Request, user: Organiser, db: SessionDep) -> HTMLResponse:
    """An empty event form for an association in scope."""
    return _form_page(request, db, user, EventForm({}), event=None, form_token=once.new_token())


def _created_with(db: Session, user: StaffUser, token: str | None) -> Event | None:
    """The event an earlier submit of the same form filling created (in scope), if any."""
    if token is None:
        return None
    earlier = db.exec(select(Event).where(Event.form_token == token)).first()
    if earlier is None or earlier.id is None:
        return None
    return _scoped(db, user, earlier.id)


@router.post("/events/new")
async def create_event(
    request: Request,
    user: Organiser,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    settings: SettingsDep,
) -> Response:
    """Store the event when every field is valid, else show the form with its errors."""
    raw = dict(await request.form())
    token = once.posted_token(raw.get(once.TOKEN_FIELD))
    earlier = _created_with(db, user, token)
    if earlier is not None:  # a double submit or back-and-resubmit: the first one stands
        return RedirectResponse(f"/staff/events/{earlier.id}/edit?done=created", status_code=303)
    try:
        association_id = int(str(raw.get("association_id", "")))
    except ValueError:
        association_id = 0
    form = parse_event_form(
        raw,
        tz=settings.tz,
        association_id=association_id,
        now=now,
    )
    if association_id:
        user.scope.require_association(db, association_id)  # another association: 403
    else:
        form.errors["association_id"] = "required"
    if not form.ok:  # nothing was written: the form comes back with its errors
        return _form_page(request, db, user, form, event=None, status_code=400, form_token=token)
    try:
        with db.begin_nested():
            event = events.create_event(
                db,
                association_id=association_id,
                now=now,
                organiser_staff_id=user.account.id,
                publish=bool(raw.get("publish")),
                form_token=token,
                **form.values,
            )
    except IntegrityError:  # the same form submitted twice at once: the other one stored it
        earlier = _created_with(db, user, token)
        if earlier is None:
            raise
        return RedirectResponse(f"/staff/events/{earlier.id}/edit?done=created", status_code=303)
    audit.record(
        db,
        account_id=user.account.id,
        action="event_created",
        now=now,
        target_type="event",
        target_id=event.id,
        published=event.status,
    )
    return RedirectResponse(f"/staff/events/{event.id}/edit?done=created", status_code=303)


@router.get("/events/{event_id}/edit", response_class=HTMLResponse)
def edit_event_page(
    request: Request,
    event_id: DbId,
    user: Organiser,
    db: SessionDep,
    settings: SettingsDep,
    done: str | None = None,
) -> HTMLResponse:
    """The event's form, filled in; publish and cancel buttons beside it."""
    event = _scoped(db, user, event_id)
    form = EventForm(raw_of(event, settings.tz))
    return _form_page(request, db, user, form, event=event, done=done if done in DONE else None)


@router.post("/events/{event_id}/edit")
async def edit_event(
    request: Request,
    event_id: DbId,
    user: Organiser,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    notifier: NotifierDep,
) -> Response:
    """Save the changes; a published event's answerers are told what changed (by the service)."""
    raw = dict(await request.form())
    event = _scoped(db, user, event_id)
    form = parse_event_form(
        raw,
        tz=settings.tz,
        association_id=event.association_id or 0,
        now=None,
    )
    if event.status == "cancelled":
        form.errors["status"] = "cancelled"
    if not form.ok:  # nothing was written: the form comes back with its errors
        return _form_page(request, db, user, form, event=event, status_code=400)
    revision = event.revision
    edit = events.update_event(db, event_id=event_id, changes=form.values, now=now)
    messages.tell_edit(notifier, db, now, edit)
    audit.record(
        db,
        account_id=user.account.id,
        action="event_updated",
        now=now,
        target_type="event",
        target_id=event_id,
        fields=edit.changed,
        told=event.revision != revision,
    )
    return RedirectResponse(f"/staff/events/{event_id}/edit?done=saved", status_code=303)


@router.post("/events/{event_id}/publish")
def publish_event(
    event_id: DbId, user: Organiser, csrf: Csrf, db: SessionDep, now: NowDep
) -> Response:
    """Open a draft for RSVPs (a cancelled event stays cancelled)."""
    event = _scoped(db, user, event_id)
    if event.status == "draft":
        events.publish_event(db, event_id=event_id, now=now)
        audit.record(
            db,
            account_id=user.account.id,
            action="event_published",
            now=now,
            target_type="event",
            target_id=event_id,
        )
    return RedirectResponse(f"/staff/events/{event_id}/edit?done=published", status_code=303)


@router.post("/events/{event_id}/cancel")
def cancel_event(
    event_id: DbId,
    user: Organiser,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    notifier: NotifierDep,
) -> Response:
    """Cancel the event; everyone who answered is told, queued reminders are dropped."""
    event = _scoped(db, user, event_id)
    if event.status != "cancelled":
        cancel = events.cancel_event(db, event_id=event_id, now=now)
        told = messages.tell_cancelled(notifier, db, now, cancel)
        audit.record(
            db,
            account_id=user.account.id,
            action="event_cancelled",
            now=now,
            target_type="event",
            target_id=event_id,
            messages=told,
        )
    return RedirectResponse(f"/staff/events/{event_id}/edit?done=cancelled", status_code=303)
