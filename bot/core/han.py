"""The 班長 role: an officer names a member team leader (班長) of one 班, and ends it.

A 班長 is a member household's resident with a live `HanLeader` row for their association
(bot/core/models/han.py). What a 班長 does lives with the features: notices (ticking paper
rounds, bot/features/notices/paper_flow.py) and events (RSVPs for households without LINE,
bot/features/events/proxy_flow.py). Both re-check the role with `leadership_of`, so a forged
postback from anyone else stores nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot.core.models.han import HanLeader
from bot.core.models.membership import Membership, MembershipStatus
from bot.core.standing import live_han_leadership

MAX_HAN = 40  # HanLeader.han, PaperDelivery.han


class HanchoError(ValueError):
    """A designation the association cannot take; `code` names the reason for the page."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def designate(
    session: Session,
    *,
    association_id: int,
    membership_id: int,
    han: str,
    now: datetime,
    staff: str | None = None,
) -> HanLeader:
    """Name the member of `membership_id` 班長 of `han` (again: moves them to that 班)."""
    han = han.strip()
    if not han or len(han) > MAX_HAN:
        raise HanchoError("han")
    member = session.get(Membership, membership_id)
    if (
        member is None
        or member.association_id != association_id
        or member.status != MembershipStatus.APPROVED
    ):
        raise HanchoError("not_member")
    row = session.exec(
        select(HanLeader).where(
            HanLeader.association_id == association_id, HanLeader.resident_id == member.resident_id
        )
    ).first()
    row = row or HanLeader(
        association_id=association_id, resident_id=member.resident_id, appointed_at=now
    )
    row.han, row.appointed_at, row.appointed_by_staff, row.revoked_at = han, now, staff, None
    session.add(row)
    session.flush()
    return row


def revoke(session: Session, *, association_id: int, membership_id: int, now: datetime) -> bool:
    """End a member's 班長 role (the April hand-over); False when they held none."""
    member = session.get(Membership, membership_id)
    if member is None or member.association_id != association_id:
        return False
    row = session.exec(
        select(HanLeader).where(
            HanLeader.association_id == association_id,
            HanLeader.resident_id == member.resident_id,
            col(HanLeader.revoked_at).is_(None),
        )
    ).first()
    if row is None:
        return False
    row.revoked_at = now
    session.add(row)
    return True


def forget(session: Session, resident_id: int, now: datetime) -> None:
    """データ削除: a resident who erased their data leads no 班 any more (the row stays, revoked,
    so past ticks keep pointing at someone)."""
    for row in session.exec(
        select(HanLeader).where(
            HanLeader.resident_id == resident_id, col(HanLeader.revoked_at).is_(None)
        )
    ):
        row.revoked_at = now
        session.add(row)


def leaders_by_resident(session: Session, *, association_id: int) -> dict[int, str]:
    """Live 班長 of an association: resident id → 班 (for the members page)."""
    return {
        row.resident_id: row.han
        for row in session.exec(
            select(HanLeader).where(
                HanLeader.association_id == association_id, col(HanLeader.revoked_at).is_(None)
            )
        )
    }


def leadership_of(session: Session, resident_id: int | None) -> HanLeader | None:
    """The resident's live 班長 role, only while they are still an approved member there."""
    if resident_id is None:
        return None
    query = select(HanLeader).where(*live_han_leadership(resident_id))
    return session.exec(query.order_by(col(HanLeader.id))).first()
