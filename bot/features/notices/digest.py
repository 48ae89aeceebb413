"""Notices' figures for the officers' daily digest (the `digest_counts` hook).

Counts only, scoped to one association: notices sent in the window that reached it, stamps
(確認) given in the window, and the stamped share of the week's notices asking for one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import Session, col, select

from bot.features.notices.models import Notice, NoticeAck, NoticeRecipient, NoticeStatus

# Stamps are collected for about a week after a notice goes out; older ones are settled.
ACK_WINDOW = timedelta(days=7)


def counts(
    session: Session, association_id: int, since: datetime, until: datetime
) -> dict[str, int]:
    """`notices_sent`, `new_acks`, and the week's `ack_recipients` and `ack_done`."""
    ack_recipients, ack_done = _ack_share(session, association_id, until)
    return {
        "notices_sent": _count(
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
        "new_acks": _count(
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
        "ack_recipients": ack_recipients,
        "ack_done": ack_done,
    }


def _count(session: Session, query: object) -> int:
    return int(session.exec(query).one())  # type: ignore[call-overload]  # sqlmodel's exec has no overload for a Core count select


def _reaches(association_id: int) -> ColumnElement[bool]:
    """A notice of the association, or one of a wider audience that reached its members."""
    reached = select(NoticeRecipient.notice_id).where(
        NoticeRecipient.association_id == association_id
    )
    return or_(col(Notice.association_id) == association_id, col(Notice.id).in_(reached))


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
