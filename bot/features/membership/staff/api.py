"""Membership's part of the staff JSON API under /api/v1: the overview's tallies, members,
pending applications and the join funnel (bearer tokens, the same scopes as the pages)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from bot.core.scope import Permission, visible_associations
from bot.features.membership.staff.funnel_view import funnel_table
from bot.features.membership.staff.members import members_table, pending_table
from bot.features.membership.staff.overview import overview_table
from bot.staff.api import ERRORS
from bot.staff.deps import ApiAccess, DbId, SessionDep, SettingsDep, StaffUser

router = APIRouter(prefix="/api/v1", tags=["staff API"], responses=ERRORS)

Tallies = Annotated[StaffUser, Depends(ApiAccess(Permission.VIEW_TALLIES))]
Members = Annotated[StaffUser, Depends(ApiAccess(Permission.VIEW_MEMBERS))]
Approver = Annotated[StaffUser, Depends(ApiAccess(Permission.APPROVE_MEMBERS))]


class TallyRow(BaseModel):
    """One row of the overview, as on the page and in its CSV."""

    association_id: int
    ward: str
    district: str
    association: str
    members: int
    households: int
    pending: int


class FunnelOut(BaseModel):
    """One QR source's funnel."""

    kind: str
    name: str
    follows: int
    consented: int
    applied: int
    approved: int
    approved_rate: str


class MemberOut(BaseModel):
    """A member or applicant, as the association's officers see them."""

    id: int
    association_id: int
    name: str
    town: str
    household: int
    contact: str
    since: str
    applied_at: str


class PendingOut(MemberOut):
    """A pending application, with its association's name."""

    association: str


@router.get("/tallies", summary="The overview's numbers per association")
def tallies(user: Tallies, db: SessionDep) -> list[TallyRow]:
    """The overview table: the same rows the page shows and the CSV exports."""
    table = overview_table(db, user.scope)
    return [TallyRow(**row) for row in table.rows]


@router.get(
    "/associations/{association_id}/members",
    summary="Members of one association (its officers only)",
)
def association_members(
    association_id: DbId, user: Members, db: SessionDep, settings: SettingsDep
) -> list[MemberOut]:
    """Approved members, as on the members page and in its CSV; 403 outside the scope."""
    table = members_table(db, user.scope, association_id, settings.tz)
    return [MemberOut(**row) for row in table.rows]


@router.get("/applications/pending", summary="Pending applications within scope")
def pending_applications(user: Approver, db: SessionDep, settings: SettingsDep) -> list[PendingOut]:
    """Applications waiting for the caller's decision, oldest first."""
    names = {int(a.id or 0): a.name for a, _d, _w in visible_associations(db, user.scope)}
    table = pending_table(db, user.scope, names, settings.tz)
    return [PendingOut(**row) for row in table.rows]


@router.get("/funnel", summary="Join funnel per QR source within scope")
def join_funnel(user: Tallies, db: SessionDep) -> list[FunnelOut]:
    """Follows → consented → applied → approved per source, as on the funnel page."""
    table = funnel_table(db, user.scope)
    return [FunnelOut(**row) for row in table.rows]
