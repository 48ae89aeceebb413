"""Notices as staff see them: the list with delivery and acknowledgement, compose, schedule.

An officer or organiser writes to the members of an association in their scope; sending,
scheduling and cost come from bot/features/notices/notices.py.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlmodel import Session, col, func, select

from bot.core.audience import Audience
from bot.core.models.areas import Association
from bot.core.scope import Scope
from bot.features.notices import notices
from bot.features.notices.models import Notice, NoticeAck
from bot.staff.tables import Column, Table

LIST_LIMIT = 200

NOTICE_COLUMNS = [
    Column("created_at", "col.created_at"),
    Column("title", "col.title"),
    Column("association", "col.association"),
    Column("status", "col.status"),
    Column("when", "col.when"),
    Column("recipients", "col.recipients", numeric=True),
    Column("acks", "col.acks", numeric=True),
]


class NoticeNotFound(Exception):
    """No such notice (the web answers 404)."""


def _local(moment: datetime | None, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""


def notices_table(session: Session, scope: Scope, tz: tzinfo) -> Table:
    """The latest notices in scope: status, when sent or due, recipients, acknowledgements."""
    rows = session.exec(
        select(Notice, Association.name)
        .outerjoin(Association, col(Association.id) == col(Notice.association_id))
        .where(scope.association_filter(Notice.association_id))
        .order_by(col(Notice.created_at).desc(), col(Notice.id).desc())
        .limit(LIST_LIMIT)
    ).all()
    ids = [n.id for n, _name in rows]
    acks = (
        dict(
            session.exec(
                select(NoticeAck.notice_id, func.count())
                .where(col(NoticeAck.notice_id).in_(ids))
                .group_by(col(NoticeAck.notice_id))
            ).all()
        )
        if ids
        else {}
    )
    out = [
        {
            "notice_id": n.id,
            "created_at": _local(n.created_at, tz),
            "title": n.title,
            "association": name or "",
            "status": n.status,
            "when": _local(n.sent_at or n.scheduled_at, tz),
            "recipients": n.recipient_count,
            "acks": int(acks.get(n.id or 0, 0)),
        }
        for n, name in rows
    ]
    return Table("notices", NOTICE_COLUMNS, out)


def scoped_notice(session: Session, scope: Scope, notice_id: int) -> Notice:
    """The notice, when it exists and belongs to an association in scope."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NoticeNotFound(notice_id)
    scope.require_owned(session, notice.association_id, f"notice {notice_id}")
    return notice


def draft_notice(
    session: Session,
    scope: Scope,
    *,
    association_id: int,
    title: str,
    body: str,
    ack_requested: bool,
    never_participated: bool,
    author_staff_id: int | None,
    now: datetime,
    form_token: str | None = None,
    translations: dict[str, dict[str, str]] | None = None,
) -> Notice:
    """A draft to the members of one association in scope (with the organiser's English and
    easy-Japanese versions, if given)."""
    scope.require_association(session, association_id)
    audience = Audience(
        scope="association", ids=(association_id,), never_participated=never_participated
    )
    return notices.create_notice(
        session,
        title=title,
        body=body,
        audience=audience,
        now=now,
        association_id=association_id,
        ack_requested=ack_requested,
        author_staff_id=author_staff_id,
        form_token=form_token,
        translations=translations,
    )
