"""The organiser's list of who answered an event: party sizes, needs, proxy entries, check-ins.

Names come from the association membership (shared with the association under the resident's
consent); a proxy entry for a resident without LINE shows the label the 班長 gave. The staff
web must scope this to the event's association, as with every personal list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_
from sqlmodel import Session, col, select

from bot.core.models.membership import Membership, MembershipStatus
from bot.features.events.models import CheckIn, Rsvp


@dataclass(frozen=True)
class RosterRow:
    """One answer as the organiser sees it."""

    rsvp_id: int
    name: str  # member's name, else the proxy label, else ""
    association_id: int | None
    answer: str
    adults: int
    children: int
    needs: str
    by_proxy: bool  # 代理入力 (entered by a 班長 or staff)
    checked_in: bool
    waitlisted_at: datetime | None
    updated_at: datetime


def roster(session: Session, *, event_id: int) -> list[RosterRow]:
    """Every answer to the event: going first, then waitlist order, maybe, not."""
    rows = session.exec(
        select(Rsvp, Membership.full_name, Membership.association_id, CheckIn.id)
        .outerjoin(
            Membership,
            and_(
                col(Membership.resident_id) == col(Rsvp.resident_id),
                col(Membership.status) == MembershipStatus.APPROVED,
            ),
        )
        .outerjoin(
            CheckIn,
            and_(
                col(CheckIn.event_id) == col(Rsvp.event_id),
                col(CheckIn.resident_id) == col(Rsvp.resident_id),
            ),
        )
        .where(Rsvp.event_id == event_id)
    ).all()
    order = {"going": 0, "waitlisted": 1, "maybe": 2, "not": 3}
    result = [
        RosterRow(
            rsvp_id=int(answer.id or 0),
            name=name or answer.proxy_label,
            association_id=association_id,
            answer=answer.answer,
            adults=answer.adults,
            children=answer.children,
            needs=answer.needs,
            by_proxy=answer.entered_by_resident_id is not None
            or answer.entered_by_staff_id is not None,
            checked_in=checkin_id is not None,
            waitlisted_at=answer.waitlisted_at,
            updated_at=answer.updated_at,
        )
        for answer, name, association_id, checkin_id in rows
    ]
    return sorted(
        result, key=lambda r: (order.get(r.answer, 9), r.waitlisted_at or r.updated_at, r.rsvp_id)
    )
