"""Public web bits of events: the `.ics` download (a notice's print page is the notices
feature's, bot/features/notices/public_routes.py)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from bot.features.events import ics
from bot.features.events.messages import calendar_url
from bot.features.events.models import Event, EventStatus
from bot.staff.deps import DbId, NowDep, SessionDep, SettingsDep

router = APIRouter(tags=["events"])


@router.get("/events/{event_id}.ics", summary="An event as an iCalendar file")
def event_calendar(
    event_id: DbId,
    db: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    t: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Add-to-calendar: published and cancelled events only (drafts are not public), and
    only with the link's token `t`: ids are sequential, members-only events are not."""
    event = db.get(Event, event_id)
    if (
        event is None
        or event.status == EventStatus.DRAFT
        or not hmac.compare_digest(event.calendar_token.encode(), t.encode())
    ):
        raise HTTPException(status_code=404)
    body = ics.event_ics(event, now=now, url=calendar_url(event, settings.public_base_url))
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="event-{event_id}.ics"'},
    )
