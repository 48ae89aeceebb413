"""What happened in one association over a day, for the officers' daily digest.

Counts only, so the digest names nobody: officers see the people themselves in the staff
web. Membership counts its own tables (applications, joins, departures); every other figure
comes from the feature that owns it through the `digest_counts` hook (bot/core/hooks.py):
events give `rsvps`, `rsvps_going`; notices `notices_sent`, `new_acks`, `ack_recipients`,
`ack_done`; volunteering `open_slots`, `open_places`. A figure nobody gives counts 0.
Everything is scoped to one association, so an officer of A never reads about B.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from bot.core import hooks
from bot.core.models.areas import Association
from bot.core.models.membership import Membership, MembershipStatus, Officer


@dataclass(frozen=True)
class Digest:
    """One association's day: what changed in [since, until), and what stands open now."""

    association_id: int
    association_name: str
    new_applications: int  # applied in the window and still pending
    pending_total: int  # every application waiting, however old
    joined: int
    left: int
    rsvps: int  # answers given or changed for upcoming events
    rsvps_going: int
    notices_sent: int
    new_acks: int
    ack_recipients: int  # LINE recipients in this association of the week's stamped notices
    ack_done: int
    open_slots: int  # upcoming volunteer slots with places left
    open_places: int

    @property
    def happened(self) -> bool:
        """True when anything changed in the window (standing figures alone send nothing)."""
        return any(
            (
                self.new_applications,
                self.joined,
                self.left,
                self.rsvps,
                self.notices_sent,
                self.new_acks,
            )
        )

    @property
    def ack_percent(self) -> int | None:
        """Stamped share of the week's notices asking for one, in percent (None: none)."""
        if not self.ack_recipients:
            return None
        return round(100 * self.ack_done / self.ack_recipients)


def associations_with_officers(session: Session) -> list[int]:
    """Associations that have at least one officer (nobody else reads a digest)."""
    rows = session.exec(
        select(Officer.association_id).where(col(Officer.revoked_at).is_(None)).distinct()
    ).all()
    return sorted(int(a) for a in rows)


def build(session: Session, association_id: int, since: datetime, until: datetime) -> Digest:
    """The digest of one association for the window [since, until)."""
    association = session.get(Association, association_id)
    others = hooks.ask_digest_counts(session, association_id, since, until)
    return Digest(
        association_id=association_id,
        association_name=association.name if association else "",
        new_applications=_memberships(
            session,
            association_id,
            col(Membership.status) == MembershipStatus.PENDING,
            col(Membership.applied_at) >= since,
            col(Membership.applied_at) < until,
        ),
        pending_total=_memberships(
            session,
            association_id,
            col(Membership.status) == MembershipStatus.PENDING,
        ),
        joined=_memberships(
            session,
            association_id,
            col(Membership.status).in_([MembershipStatus.APPROVED, MembershipStatus.ENDED]),
            col(Membership.decided_at) >= since,
            col(Membership.decided_at) < until,
        ),
        left=_memberships(
            session,
            association_id,
            col(Membership.status) == MembershipStatus.ENDED,
            col(Membership.ended_at) >= since,
            col(Membership.ended_at) < until,
        ),
        rsvps=others.get("rsvps", 0),
        rsvps_going=others.get("rsvps_going", 0),
        notices_sent=others.get("notices_sent", 0),
        new_acks=others.get("new_acks", 0),
        ack_recipients=others.get("ack_recipients", 0),
        ack_done=others.get("ack_done", 0),
        open_slots=others.get("open_slots", 0),
        open_places=others.get("open_places", 0),
    )


def _memberships(session: Session, association_id: int, *conditions: ColumnElement[bool]) -> int:
    """How many memberships of the association meet `conditions`."""
    query = select(func.count()).select_from(Membership)
    return _count(session, query.where(Membership.association_id == association_id, *conditions))


def _count(session: Session, query: object) -> int:
    return int(session.exec(query).one())  # type: ignore[call-overload]  # sqlmodel's exec has no overload for a Core count select
