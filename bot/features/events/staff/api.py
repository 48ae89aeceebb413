"""The events' part of the staff JSON API under /api/v1 (bearer tokens, the pages' scopes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel

from bot.core.scope import Permission
from bot.features.events.staff.views import EventNotFound, events_table, tally_table
from bot.staff.api import ERRORS
from bot.staff.deps import ApiAccess, DbId, SessionDep, SettingsDep, StaffUser
from bot.staff.i18n import translators

router = APIRouter(prefix="/api/v1", tags=["staff API"], responses=ERRORS)

Events = Annotated[StaffUser, Depends(ApiAccess(Permission.VIEW_EVENTS))]


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


@router.get("/events", summary="Events within scope, newest first")
def events_list(user: Events, db: SessionDep, settings: SettingsDep) -> list[EventOut]:
    """The events list with going / headcount / checked-in totals."""
    table = events_table(db, user.scope, settings.tz)
    return [EventOut(**row) for row in table.rows]


@router.get(
    "/events/{event_id}/tally",
    summary="One event's tally by association",
    responses={404: {"description": "No such event"}},
)
def event_tally(
    event_id: DbId, user: Events, db: SessionDep, settings: SettingsDep
) -> EventTallyOut:
    """Answers, headcount and check-ins per association of the residents; counts only."""
    t = translators(settings.content_dir)["ja"]
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
