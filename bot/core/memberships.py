"""Read-only questions about membership that several features ask.

The membership feature owns how people join, move and leave; other features only need to
know where a resident belongs now, and read it here from the core `Membership` table.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.core.models.membership import Membership, MembershipStatus


def current_membership(session: Session, resident_id: int) -> Membership | None:
    """The resident's approved membership (the latest, should there be several), if any."""
    query = (
        select(Membership)
        .where(
            Membership.resident_id == resident_id,
            Membership.status == MembershipStatus.APPROVED,
        )
        .order_by(col(Membership.applied_at).desc())
    )
    return session.exec(query).first()
