"""Members and subscribers counted apart, for tallies (counts only, nobody named)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.models.membership import Membership, MembershipStatus
from bot.core.models.residents import Resident, ResidentStatus


@dataclass(frozen=True)
class MemberCount:
    """One association's current members: residents (households) and the people in them."""

    association_id: int
    households: int
    people: int


def member_counts(session: Session) -> dict[int, MemberCount]:
    """Approved memberships per association (each membership is one household)."""
    query = (
        select(
            Membership.association_id,
            func.count(),
            func.coalesce(func.sum(Membership.household_size), 0),
        )
        .where(Membership.status == MembershipStatus.APPROVED)
        .group_by(col(Membership.association_id))
    )
    return {
        int(aid): MemberCount(int(aid), int(households), int(people))
        for aid, households, people in session.execute(query)
    }


def subscriber_count(session: Session) -> int:
    """Reachable residents who follow the bot without being members (yet)."""
    members = select(Membership.resident_id).where(Membership.status == MembershipStatus.APPROVED)
    query = (
        select(func.count())
        .select_from(Resident)
        .where(
            Resident.status == ResidentStatus.ACTIVE,
            col(Resident.line_user_id).is_not(None),
            col(Resident.id).not_in(members),
        )
    )
    return int(session.execute(query).scalar_one())
