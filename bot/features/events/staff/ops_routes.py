"""Running an event from a phone: announce it, read the roster, print the venue's paper,
count walk-ins at the door.

- announce: the event card pushed to its audience, with reach and cost shown first (the
  notices feature owns the push, asked through hooks); announcing twice sends once.
- roster: names, headcount and needs, for the association's officers and the organiser of
  this event only; every view (page or PDF) is audited.
- door: the check-in QR poster and two-tap walk-in counting, for anyone managing the event.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.core import audit, hooks, qr
from bot.core.scope import Permission
from bot.features.events import checkin, roster, tallies
from bot.features.events.models import Event, EventStatus, Rsvp, WalkIn
from bot.features.events.staff import paper
from bot.features.events.staff.views import EventNotFound, may_see_roster, scoped_event
from bot.staff import once
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
    words_for,
)
from bot.staff.pdf import pdf_response
from bot.staff.web import page

router = APIRouter(prefix="/staff", include_in_schema=False)

Viewer = Annotated[StaffUser, Depends(PageAccess(Permission.VIEW_EVENTS))]
Organiser = Annotated[StaffUser, Depends(PageAccess(Permission.MANAGE_EVENTS))]
MAX_WALK_IN = 20  # people one tap may count (a family, a group)


def _scoped(db: Session, user: StaffUser, event_id: int) -> Event:
    try:
        return scoped_event(db, user.scope, event_id)
    except EventNotFound:
        raise HTTPException(status_code=404) from None


def _roster_event(db: Session, user: StaffUser, event_id: int) -> Event:
    """The event, when this account may see its names (else 403: counts stay on the tally)."""
    event = _scoped(db, user, event_id)
    if not may_see_roster(db, user.scope, user.account.id, event):
        raise HTTPException(status_code=403)
    return event


# --- announce ------------------------------------------------------------------------------


@router.get("/events/{event_id}/announce", response_class=HTMLResponse)
def announce_page(
    request: Request,
    event_id: DbId,
    user: Organiser,
    db: SessionDep,
    content: ContentDep,
    done: int | None = None,
) -> HTMLResponse:
    """Who the announcement reaches and what it costs, before anything is sent."""
    event = _scoped(db, user, event_id)
    preview = hooks.ask_preview_announcement(db, event_id, content)
    return page(
        request, user, "event_announce.html", event=event, preview=preview, done=done is not None
    )


@router.post("/events/{event_id}/announce")
def announce(
    event_id: DbId,
    user: Organiser,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    notifier: NotifierDep,
    content: ContentDep,
) -> Response:
    """Push the event card to its audience, once (a second press sends nothing more)."""
    event = _scoped(db, user, event_id)
    preview = hooks.ask_preview_announcement(db, event_id, content)
    if event.status != EventStatus.PUBLISHED or preview is None:
        return RedirectResponse(f"/staff/events/{event_id}/announce", status_code=303)
    if not preview.announced:
        invited = hooks.ask_announce_event(db, event_id, notifier, now, settings.public_base_url)
        audit.record(
            db,
            account_id=user.account.id,
            action="event_announced",
            now=now,
            target_type="event",
            target_id=event_id,
            recipients=invited or 0,
        )
    return RedirectResponse(f"/staff/events/{event_id}/announce?done=1", status_code=303)


# --- roster --------------------------------------------------------------------------------


@router.get("/events/{event_id}/roster", response_class=HTMLResponse)
def roster_page(
    request: Request, event_id: DbId, user: Viewer, db: SessionDep, now: NowDep
) -> HTMLResponse:
    """Who answered, with headcount and needs; audited."""
    event = _roster_event(db, user, event_id)
    rows = roster.roster(db, event_id=event_id)
    coming = paper.attendees(rows)
    audit.record(
        db,
        account_id=user.account.id,
        action="event_roster_viewed",
        now=now,
        target_type="event",
        target_id=event_id,
        rows=len(rows),
    )
    return page(
        request,
        user,
        "event_roster.html",
        event=event,
        rows=rows,
        going=len(coming),
        people=sum(r.adults + r.children for r in coming),
        needs=sum(1 for r in coming if r.needs),
        checked_in=sum(1 for r in rows if r.checked_in),
        may_manage=user.scope.can(Permission.MANAGE_EVENTS),
    )


@router.post("/events/{event_id}/roster/{rsvp_id}/attend")
def mark_attended(
    event_id: DbId, rsvp_id: DbId, user: Organiser, csrf: Csrf, db: SessionDep, now: NowDep
) -> Response:
    """Check in someone who came without scanning (no phone, or a proxy answer): once."""
    event = _roster_event(db, user, event_id)
    answer = db.get(Rsvp, rsvp_id)
    if answer is None or answer.event_id != event_id:
        raise HTTPException(status_code=404)
    if event.status == EventStatus.PUBLISHED and checkin.mark_attended(
        db, event_id=event_id, resident_id=answer.resident_id, now=now, staff_id=user.account.id
    ):
        audit.record(
            db,
            account_id=user.account.id,
            action="event_checked_in_by_staff",
            now=now,
            target_type="event",
            target_id=event_id,
            rsvp=rsvp_id,
        )
    return RedirectResponse(f"/staff/events/{event_id}/roster#rsvp-{rsvp_id}", status_code=303)


@router.get("/events/{event_id}/reception.pdf")
def reception_pdf(
    request: Request, event_id: DbId, user: Viewer, db: SessionDep, now: NowDep
) -> Response:
    """The reception sheet: one row per resident coming, blank rows for walk-ins; audited."""
    event = _roster_event(db, user, event_id)
    rows = roster.roster(db, event_id=event_id)
    audit.record(
        db,
        account_id=user.account.id,
        action="event_roster_printed",
        now=now,
        target_type="event",
        target_id=event_id,
        rows=len(paper.attendees(rows)),
    )
    pdf = paper.reception_sheet(event, rows, words_for(request, "ja"), now)
    return pdf_response(pdf, f"reception-{event_id}.pdf")


# --- at the door ---------------------------------------------------------------------------


@router.get("/events/{event_id}/door", response_class=HTMLResponse)
def door_page(
    request: Request,
    event_id: DbId,
    user: Organiser,
    db: SessionDep,
    settings: SettingsDep,
    content: ContentDep,
    done: str | None = None,
) -> HTMLResponse:
    """At the venue: who is checked in, walk-ins so far, one tap per person walking in, and
    the check-in QR on screen (residents may scan the organiser's phone when no poster hangs)."""
    event = _scoped(db, user, event_id)
    tally = tallies.event_tally(db, event_id=event_id)
    link = checkin.checkin_link(event, content, settings.line_bot_basic_id)
    return page(
        request,
        user,
        "event_door.html",
        event=event,
        tally=tally,
        checkin_url=link,
        checkin_svg=Markup(qr.svg_text(link, scale=6)),  # segno's own SVG, no user text
        done=done == "walk_in",
        may_see_roster=may_see_roster(db, user.scope, user.account.id, event),
        form_token=once.new_token(),
    )


@router.get("/events/{event_id}/checkin-poster.pdf")
def checkin_poster_pdf(
    request: Request,
    event_id: DbId,
    user: Organiser,
    db: SessionDep,
    settings: SettingsDep,
    content: ContentDep,
) -> Response:
    """The venue's check-in QR, A4 and large: scanning it in LINE checks the resident in."""
    event = _scoped(db, user, event_id)
    link = checkin.checkin_link(event, content, settings.line_bot_basic_id)
    pdf = paper.checkin_poster(event, link, words_for(request, "ja"))
    return pdf_response(pdf, f"checkin-{event_id}.pdf")


@router.post("/events/{event_id}/walk-ins")
def add_walk_in(
    event_id: DbId,
    user: Organiser,
    csrf: Csrf,
    db: SessionDep,
    now: NowDep,
    adults: Annotated[int, Form(ge=0, le=MAX_WALK_IN)] = 0,
    children: Annotated[int, Form(ge=0, le=MAX_WALK_IN)] = 0,
    form_token: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Count people walking in (no names); a double tap of the same button counts once."""
    event = _scoped(db, user, event_id)
    back = RedirectResponse(f"/staff/events/{event_id}/door?done=walk_in", status_code=303)
    token = once.posted_token(form_token)
    if event.status != EventStatus.PUBLISHED or adults + children == 0:
        return RedirectResponse(f"/staff/events/{event_id}/door", status_code=303)
    if token and db.exec(select(WalkIn.id).where(WalkIn.form_token == token)).first():
        return back
    try:
        with db.begin_nested():
            row = checkin.record_walk_ins(
                db,
                event_id=event_id,
                adults=adults,
                children=children,
                now=now,
                staff_id=user.account.id,
            )
            row.form_token = token
            db.flush()
    except IntegrityError:  # the same tap arriving twice at once: the other one counted it
        return back
    audit.record(
        db,
        account_id=user.account.id,
        action="event_walk_in",
        now=now,
        target_type="event",
        target_id=event_id,
        adults=adults,
        children=children,
    )
    return back
