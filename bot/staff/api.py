"""JSON API for staff tools under /api/v1: bearer tokens, the same scopes as the pages.

The shared bits (`ERRORS`, the token checks in bot/staff/deps.py) live here; features add
their endpoints in bot/features/<name>/staff/api.py (their `Feature.api_routers`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from bot.core.scope import Permission, visible_associations
from bot.db import session_scope
from bot.staff.deps import ApiAccess, StaffUser, engine_of

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No token, or a revoked or unknown one"},
    403: {"description": "The token's role or scope does not cover this"},
}

router = APIRouter(prefix="/api/v1", tags=["staff API"], responses=ERRORS)

Tallies = Annotated[StaffUser, Depends(ApiAccess(Permission.VIEW_TALLIES))]
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
            ward=w.name,
            is_sample=a.is_sample,
        )
        for a, d, w in rows
    ]
