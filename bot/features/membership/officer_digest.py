"""What happened in one association over a day, for the officers' daily digest.

Counts only, read from the tables (memberships, RSVPs, notices and their stamps, volunteer
slots), so the digest names nobody: officers see the people themselves in the staff web.
Everything is scoped to one association, so an officer of A never reads about B.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot.core.models.areas import Association
from bot.core.models.membership import Membership, MembershipStatus, Officer
from bot.features.events.models import Event, EventStatus, Rsvp, RsvpAnswer
from bot.features.notices.models import Notice, NoticeAck, NoticeRecipient, NoticeStatus
from bot.features.volunteers.models import Opportunity, Slot

# Stamps are collected for about a week after a notice goes out; older ones are settled.
ACK_WINDOW = timedelta(days=7)


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
    ack_recipients, ack_done = _ack_share(session, association_id, until)
    open_slots, open_places = _open_volunteering(session, association_id, until)
    rsvps, going = _rsvps(session, association_id, since, until)
    return Digest(
        association_id=association_id,
        association_name=association.name if association else "",
        new_applications=_count(
            session,
            select(func.count())
            .select_from(Membership)
            .where(
                Membership.association_id == association_id,
                Membership.status == MembershipStatus.PENDING,
                col(Membership.applied_at) >= since,
                col(Membership.applied_at) < until,
            ),
        ),
        pending_total=_count(
            session,
            select(func.count())
            .select_from(Membership)
            .where(
                Membership.association_id == association_id,
                Membership.status == MembershipStatus.PENDING,
            ),
        ),
        joined=_count(
            session,
            select(func.count())
            .select_from(Membership)
            .where(
                Membership.association_id == association_id,
                col(Membership.status).in_([MembershipStatus.APPROVED, MembershipStatus.ENDED]),
                col(Membership.decided_at) >= since,
                col(Membership.decided_at) < until,
            ),
        ),
        left=_count(
            session,
            select(func.count())
            .select_from(Membership)
            .where(
                Membership.association_id == association_id,
                Membership.status == MembershipStatus.ENDED,
                col(Membership.ended_at) >= since,
                col(Membership.ended_at) < until,
            ),
        ),
        rsvps=rsvps,
        rsvps_going=going,
        notices_sent=_count(
            session,
            select(func.count())
            .select_from(Notice)
            .where(
                col(Notice.status) == NoticeStatus.SENT,
                col(Notice.sent_at) >= since,
                col(Notice.sent_at) < until,
                _reaches(association_id),
            ),
        ),
        new_acks=_count(
            session,
            select(func.count())
            .select_from(NoticeAck)
            .join(
                NoticeRecipient,
                (col(NoticeRecipient.notice_id) == NoticeAck.notice_id)
                & (col(NoticeRecipient.resident_id) == NoticeAck.resident_id),
            )
            .where(
                NoticeRecipient.association_id == association_id,
                col(NoticeAck.at) >= since,
                col(NoticeAck.at) < until,
            ),
        ),
        ack_recipients=ack_recipients,
        ack_done=ack_done,
        open_slots=open_slots,
        open_places=open_places,
    )


def _count(session: Session, query: object) -> int:
    return int(session.exec(query).one())  # type: ignore[call-overload]


def _reaches(association_id: int) -> object:
    """A notice of the association, or one of a wider audience that reached its members."""
    reached = select(NoticeRecipient.notice_id).where(
        NoticeRecipient.association_id == association_id
    )
    return or_(col(Notice.association_id) == association_id, col(Notice.id).in_(reached))


def _rsvps(
    session: Session, association_id: int, since: datetime, until: datetime
) -> tuple[int, int]:
    rows = session.exec(
        select(Rsvp.answer, func.count())
        .join(Event, col(Event.id) == Rsvp.event_id)
        .where(
            Event.association_id == association_id,
            Event.status == EventStatus.PUBLISHED,
            col(Event.starts_at) >= until,
            col(Rsvp.updated_at) >= since,
            col(Rsvp.updated_at) < until,
        )
        .group_by(Rsvp.answer)
    ).all()
    counts = {str(answer): int(n) for answer, n in rows}
    return sum(counts.values()), counts.get(RsvpAnswer.GOING, 0)


def _ack_share(session: Session, association_id: int, until: datetime) -> tuple[int, int]:
    recent = select(Notice.id).where(
        col(Notice.ack_requested).is_(True),
        col(Notice.status) == NoticeStatus.SENT,
        col(Notice.sent_at) >= until - ACK_WINDOW,
        col(Notice.sent_at) < until,
    )
    recipients = _count(
        session,
        select(func.count())
        .select_from(NoticeRecipient)
        .where(
            NoticeRecipient.association_id == association_id,
            col(NoticeRecipient.notice_id).in_(recent),
        ),
    )
    done = _count(
        session,
        select(func.count())
        .select_from(NoticeAck)
        .join(
            NoticeRecipient,
            (col(NoticeRecipient.notice_id) == NoticeAck.notice_id)
            & (col(NoticeRecipient.resident_id) == NoticeAck.resident_id),
        )
        .where(
            NoticeRecipient.association_id == association_id,
            col(NoticeRecipient.notice_id).in_(recent),
            col(NoticeAck.at) < until,
        ),
    )
    return recipients, done


def _open_volunteering(session: Session, association_id: int, until: datetime) -> tuple[int, int]:
    rows = session.exec(
        select(Slot.needed, Slot.filled)
        .join(Opportunity, col(Opportunity.id) == Slot.opportunity_id)
        .where(
            Opportunity.association_id == association_id,
            Opportunity.status == "open",
            Slot.status == "open",
            col(Slot.starts_at) >= until,
        )
    ).all()
    gaps = [needed - filled for needed, filled in rows if needed > filled]
    return len(gaps), sum(gaps)
