"""Who is who, read by every layer: a resident's menu role (subscriber, member, officer) and
whether they lead a 班 (班長). Read-only; the membership feature changes these facts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, bindparam, exists
from sqlmodel import Session, col, select

from bot.core.models.han import HanLeader
from bot.core.models.membership import Membership, MembershipStatus, Officer
from bot.core.models.residents import Resident, ResidentStatus

ROLE_SUBSCRIBER, ROLE_MEMBER, ROLE_OFFICER = "subscriber", "member", "officer"


@dataclass(frozen=True)
class MenuStanding:
    """What decides a resident's menu: their role, and whether they lead a 班 (班長)."""

    role: str
    leads_han: bool = False


def live_han_leadership(resident_id: Any) -> tuple[ColumnElement[bool], ...]:
    """Conditions on `HanLeader` rows for the resident's live 班長 role: not revoked, and the
    resident still an approved member of that association. `resident_id` is a value or a
    bound parameter."""
    approved_there = exists().where(
        col(Membership.resident_id) == resident_id,
        col(Membership.association_id) == col(HanLeader.association_id),
        col(Membership.status) == MembershipStatus.APPROVED,
    )
    return (
        col(HanLeader.resident_id) == resident_id,
        col(HanLeader.revoked_at).is_(None),
        approved_there,
    )


def _standing_query() -> Any:
    rid: BindParameter[int] = bindparam("rid")
    return select(
        exists().where(col(Officer.resident_id) == rid, col(Officer.revoked_at).is_(None)),
        exists().where(
            col(Membership.resident_id) == rid,
            col(Membership.status) == MembershipStatus.APPROVED,
        ),
        exists().where(*live_han_leadership(rid)),
    )


# Built once: this runs for every message a resident sends, in one round trip.
_STANDING = _standing_query()


def menu_standing(session: Session, resident: Resident) -> MenuStanding:
    """The resident's menu role and 班長 standing, read in one query."""
    if resident.id is None:
        return MenuStanding(ROLE_SUBSCRIBER)
    officer, member, leader = session.execute(_STANDING, {"rid": resident.id}).one()
    role = ROLE_OFFICER if officer else ROLE_MEMBER if member else ROLE_SUBSCRIBER
    return MenuStanding(role, bool(leader))


def menu_role(session: Session, resident: Resident) -> str:
    """Which menu a resident sees: officer, member or subscriber."""
    return menu_standing(session, resident).role


def line_user_ids_with_role(session: Session, role: str) -> list[str]:
    """LINE user IDs of reachable residents whose menu role is `role` (member or officer)."""
    officers = select(Officer.resident_id).where(col(Officer.revoked_at).is_(None)).distinct()
    if role == ROLE_OFFICER:
        ids = select(Resident.line_user_id).where(col(Resident.id).in_(officers))
    elif role == ROLE_MEMBER:
        members = select(Membership.resident_id).where(
            Membership.status == MembershipStatus.APPROVED
        )
        ids = select(Resident.line_user_id).where(
            col(Resident.id).in_(members), col(Resident.id).not_in(officers)
        )
    else:
        raise ValueError(f"no per-user menu for role {role!r}")
    query = ids.where(
        col(Resident.line_user_id).is_not(None), Resident.status == ResidentStatus.ACTIVE
    )
    return [str(user_id) for user_id in session.exec(query)]
