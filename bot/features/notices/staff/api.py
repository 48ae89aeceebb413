"""The notices' part of the staff JSON API under /api/v1 (bearer tokens, the pages' scopes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from bot.core.scope import Permission
from bot.features.notices.staff.views import notices_table
from bot.staff.api import ERRORS
from bot.staff.deps import ApiAccess, SessionDep, SettingsDep, StaffUser

router = APIRouter(prefix="/api/v1", tags=["staff API"], responses=ERRORS)

Notices = Annotated[StaffUser, Depends(ApiAccess(Permission.SEND_NOTICES))]


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


@router.get("/notices", summary="Notices within scope, newest first")
def notices_list(user: Notices, db: SessionDep, settings: SettingsDep) -> list[NoticeOut]:
    """Status, send time, recipients and acknowledgements, as on the notices page."""
    table = notices_table(db, user.scope, settings.tz)
    return [NoticeOut(**row) for row in table.rows]
