"""JSON API for staff tools under /api/v1: bearer tokens, the same scopes as the pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from bot.core.scope import Permission, visible_associations
from bot.db import session_scope
from bot.features.events.staff.views import EventNotFound, events_table, tally_table
from bot.features.notices.staff.views import notices_table
from bot.staff.deps import ApiAccess, DbId, StaffUser, engine_of
from bot.staff.i18n import translators

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No token, or a revoked or unknown one"},
    403: {"description": "The token's role or scope does not cover this"},
}

router = APIRouter(prefix="/api/v1", tags=["staff API"], responses=ERRORS)

Tallies = Annotated[StaffUser, Depends(ApiAccess(Permission.VIEW_TALLIES))]
Events = Annotated[StaffUser, Depends(ApiAccess(Permission.VIEW_EVENTS))]
Notices = Annotated[StaffUser, Depends(ApiAccess(Permission.SEND_NOTICES))]
AnyStaff = Annotated[StaffUser, Depends(ApiAccess(Permission.USE_API))]


class Me(BaseModel):
    """The account a token belongs to and what it covers."""

    login: str
    display_name: str
    role: str
    ward_ids: list[int]
    association_ids: list[int]


class AssociationOut(BaseModel):
    """An association within the caller's scope."""

    id: int
    code: str
    name: str
    district: str
    ward: str
    is_sample: bool


class EventOut(BaseModel):
    """An event with its totals, as in the events list."""

    event_id: int
    starts_at: str
    title: str
    association: str
    status: str
    going: int
    headcount: int
    checked_in: int


class TallyByAssociation(BaseModel):
    """One row of an event's tally (the last row is the total)."""

    association: str
    going: int
    maybe: int
    not_going: int
    waitlisted: int
    headcount: int
    checked_in: int


class EventTallyOut(BaseModel):
    """An event's tally by the association of the residents, and its walk-ins."""

    rows: list[TallyByAssociation]
    walk_in_adults: int
    walk_in_children: int
    attended: int


class NoticeOut(BaseModel):
    """A notice with its delivery and acknowledgement status."""

    notice_id: int
    created_at: str
    title: str
    association: str
    status: str
    when: str
    recipients: int
    acks: int


@router.get("/me", summary="The token's account and scope")
def me(user: AnyStaff) -> Me:
    """Who the token acts as: role, wards and associations."""
    return Me(
        login=user.account.login,
        display_name=user.account.display_name,
        role=user.scope.role.value,
        ward_ids=sorted(user.scope.ward_ids),
        association_ids=sorted(user.scope.association_ids),
    )


@router.get("/associations", summary="Associations within scope")
def associations(request: Request, user: Tallies) -> list[AssociationOut]:
    """Every association the caller may see, with its district and ward."""
    with session_scope(engine_of(request)) as db:
        rows = visible_associations(db, user.scope)
    return [
        AssociationOut(
            id=a.id,
            code=a.code,
            name=a.name,
            district=d.name,
            ward=w.name,  # type: ignore[arg-type]
            is_sample=a.is_sample,
        )
        for a, d, w in rows
    ]


@router.get("/events", summary="Events within scope, newest first")
def events_list(request: Request, user: Events) -> list[EventOut]:
    """The events list with going / headcount / checked-in totals."""
    with session_scope(engine_of(request)) as db:
        table = events_table(db, user.scope, request.app.state.settings.tz)
    return [EventOut(**row) for row in table.rows]


@router.get(
    "/events/{event_id}/tally",
    summary="One event's tally by association",
    responses={404: {"description": "No such event"}},
)
def event_tally(request: Request, event_id: DbId, user: Events) -> EventTallyOut:
    """Answers, headcount and check-ins per association of the residents; counts only."""
    t = translators(request.app.state.settings.content_dir)["ja"]
    with session_scope(engine_of(request)) as db:
        try:
            table = tally_table(
                db,
                user.scope,
                event_id,
                non_members=t("events.non_members"),
                total=t("events.total"),
            )
        except EventNotFound:
            raise HTTPException(status_code=404, detail="no such event") from None
    return EventTallyOut(rows=[TallyByAssociation(**row) for row in table.rows], **table.notes)


@router.get("/notices", summary="Notices within scope, newest first")
def notices_list(request: Request, user: Notices) -> list[NoticeOut]:
    """Status, send time, recipients and acknowledgements, as on the notices page."""
    with session_scope(engine_of(request)) as db:
        table = notices_table(db, user.scope, request.app.state.settings.tz)
    return [NoticeOut(**row) for row in table.rows]
