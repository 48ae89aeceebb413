"""Team leaders (班長): named by an officer, they tick paper rounds and enter RSVPs in LINE.

A 班長 is a member household's resident with a live `HanLeader` row for their association.
Every function here re-checks that, so a forged postback from anyone else stores nothing.
Households are labels the 班長 knows ("3-12"), never names.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from bot.conversation.render import Renderer
from bot.core.models.han import HanLeader
from bot.core.models.membership import Membership, MembershipStatus
from bot.core.models.residents import Resident
from bot.core.standing import live_han_leadership
from bot.features.events import rsvp
from bot.features.events.models import Event, EventStatus, Rsvp, RsvpAnswer
from bot.features.notices import paper_rounds
from bot.features.notices.models import Notice, NoticeRecipient, NoticeStatus
from bot.features.notices.paper_rounds import MAX_HAN

MAX_LABEL = 60  # Rsvp.proxy_label
LIST_LIMIT = 8  # chips a small phone shows without scrolling far


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


def recent_notices(session: Session, *, association_id: int) -> list[Notice]:
    """Sent notices that reached the association (its own, or with its members among the
    recipients), newest first."""
    reached = select(NoticeRecipient.id).where(
        col(NoticeRecipient.notice_id) == col(Notice.id),
        NoticeRecipient.association_id == association_id,
    )
    return list(
        session.exec(
            select(Notice)
            .where(
                Notice.status == NoticeStatus.SENT,
                or_(col(Notice.association_id) == association_id, reached.exists()),
            )
            .order_by(col(Notice.sent_at).desc(), col(Notice.id).desc())
            .limit(LIST_LIMIT)
        )
    )


def open_events(session: Session, *, association_id: int, now: datetime) -> list[Event]:
    """The association's published events still taking answers, soonest first."""
    found = session.exec(
        select(Event)
        .where(
            Event.association_id == association_id,
            Event.status == EventStatus.PUBLISHED,
            col(Event.starts_at) > now,
        )
        .order_by(col(Event.starts_at), col(Event.id))
        .limit(LIST_LIMIT * 2)
    ).all()
    return [e for e in found if rsvp.is_open(e, now)][:LIST_LIMIT]


def tick(
    session: Session,
    *,
    leader: HanLeader,
    notice_id: int,
    households: list[str],
    now: datetime,
) -> paper_rounds.TickResult:
    """Tick households of the leader's 班 as handed the paper copy of a notice they may see."""
    if notice_id not in {
        n.id for n in recent_notices(session, association_id=leader.association_id)
    }:
        raise paper_rounds.PaperError("cancelled")
    return paper_rounds.tick_households(
        session,
        notice_id=notice_id,
        association_id=leader.association_id,
        han=leader.han,
        households=households,
        now=now,
        by_resident_id=leader.resident_id,
    )


def proxy_answer(
    session: Session,
    *,
    leader: HanLeader,
    event_id: int,
    label: str,
    choice: str,
    adults: int,
    now: datetime,
    renderer: Renderer,
) -> rsvp.RsvpResult:
    """代理入力: answer for a household without LINE, known by `label`; the same label on the
    same event changes that answer instead of adding a second one."""
    label = label.strip()[:MAX_LABEL]
    event = session.get(Event, event_id)
    if event is None or event.association_id != leader.association_id or not label:
        return rsvp.RsvpResult("not_open")
    earlier = session.exec(
        select(Rsvp.resident_id)
        .join(Resident, col(Resident.id) == col(Rsvp.resident_id))
        .where(
            Rsvp.event_id == event_id,
            Rsvp.proxy_label == label,
            col(Resident.line_user_id).is_(None),
        )
    ).first()
    resident_id = earlier or rsvp.offline_resident(session, now=now).id
    return rsvp.answer(
        session,
        event_id=event_id,
        resident_id=int(resident_id or 0),
        choice=RsvpAnswer(choice),
        now=now,
        renderer=renderer,
        adults=adults,
        entered_by_resident_id=leader.resident_id,
        proxy_label=label,
    )
