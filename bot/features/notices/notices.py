"""Notices (digital 回覧板): preview reach and cost, send or schedule once, stamps, paper rounds.

A notice is sent at most once: sending claims it with a conditional UPDATE (draft/scheduled →
sent) that only one transaction can win, and its pushes are enqueued under the stable keys
`notice:<id>:<locale>`, so a second click, a retried request or the scheduler running
twice enqueue nothing new. Functions here change the tables and return who to tell; the
caller pushes through the Notifier (bot/features/notices/messages.py).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.content import Content
from bot.core import audience as audiences
from bot.core import hooks, residents
from bot.core.audience import Audience
from bot.features.notices.models import (
    Notice,
    NoticeAck,
    NoticeRecipient,
    NoticeStatus,
    PaperDelivery,
)
from bot.platform.delivery.outbox import BATCH_SIZE
from bot.platform.delivery.withdraw import withdraw_queued

CLAIMABLE = (NoticeStatus.DRAFT, NoticeStatus.SCHEDULED)


class NoticeError(Exception):
    """A request the notice cannot take."""


def create_notice(
    session: Session,
    *,
    title: str,
    body: str,
    audience: Audience,
    now: datetime,
    translations: Mapping[str, Mapping[str, str]] | None = None,
    **fields: Any,
) -> Notice:
    """A draft notice; `fields`: association_id, image_url, event_id, ack_requested, urgent,
    author_staff_id, author_resident_id."""
    notice = Notice(
        title=title,
        body=body,
        audience=audience.to_dict(),
        translations={k: dict(v) for k, v in (translations or {}).items()},
        created_at=now,
        **fields,
    )
    session.add(notice)
    session.flush()
    return notice


@dataclass(frozen=True)
class PushCost:
    """What sending would take: residents reached and LINE calls/messages it costs."""

    recipients: int
    by_locale: dict[str, int]
    multicast_calls: int  # one call per 500 residents of a locale (each locale is a message)
    push_calls: int  # a locale with a single resident goes by /push
    api_calls: int
    messages_per_recipient: int  # message objects in each call (≤ 5)
    # LINE's pricing page counts one message per recipient per request, however many bubbles
    # (up to 5) it holds; the stand-in counts per bubble, so staff may show the larger figure.
    quota_messages: int


def preview(session: Session, *, audience: Audience, messages_per_recipient: int = 1) -> PushCost:
    """Reach and cost before sending; `recipients` equals who `send_notice` would enqueue."""
    members = audiences.resolve(session, audience)
    locales = residents.reachable_locales(session, [m.resident_id for m in members])
    by_locale = Counter(locales.values())
    multicast = sum(math.ceil(n / BATCH_SIZE) for n in by_locale.values() if n > 1)
    push = sum(1 for n in by_locale.values() if n == 1)
    return PushCost(
        recipients=len(locales),
        by_locale=dict(by_locale),
        multicast_calls=multicast,
        push_calls=push,
        api_calls=multicast + push,
        messages_per_recipient=messages_per_recipient,
        quota_messages=len(locales),
    )


def preview_notice(session: Session, *, notice_id: int) -> PushCost:
    """Reach and cost of a stored notice, counting its message objects."""
    notice = _require(session, notice_id)
    return preview(
        session,
        audience=Audience.from_dict(notice.audience),
        messages_per_recipient=message_count(notice),
    )


def message_count(notice: Notice) -> int:
    """Message objects each recipient gets (bot/features/notices/messages.py `notice_says`):
    the text, then its image, the event card and the 確認しました button when it has them."""
    return 1 + bool(notice.image_url) + bool(notice.event_id) + bool(notice.ack_requested)


def schedule_notice(session: Session, *, notice_id: int, at: datetime, now: datetime) -> Notice:
    """Send at `at` (the scheduler calls `send_due_notices`); the audience is resolved then."""
    notice = _require(session, notice_id)
    if notice.status not in CLAIMABLE:
        raise NoticeError(f"notice is {notice.status}")
    if at <= now:
        raise NoticeError("scheduled time is in the past")
    notice.status, notice.scheduled_at = NoticeStatus.SCHEDULED, at
    session.add(notice)
    return notice


def cancel_notice(session: Session, *, notice_id: int) -> bool:
    """Withdraw a draft or scheduled notice; False once it has been sent."""
    claimed = session.execute(
        update(Notice)
        .where(col(Notice.id) == notice_id, col(Notice.status).in_(CLAIMABLE))
        .values(status=NoticeStatus.CANCELLED)
    )
    return bool(claimed.rowcount)  # type: ignore[attr-defined]  # an UPDATE returns a CursorResult, typed as Result


@dataclass(frozen=True)
class SendResult:
    """`sent` is False when the notice had already been sent (or cancelled): nothing new.
    When sent, `resident_ids` are the recipients to push it to (each in their locale)."""

    sent: bool
    recipients: int
    notice: Notice | None = None
    resident_ids: list[int] = field(default_factory=list)


def send_notice(session: Session, *, notice_id: int, now: datetime) -> SendResult:
    """Claim the notice for sending now (once ever) and record its recipients: the resolved
    audience LINE can reach. The caller pushes it to `resident_ids` in the same transaction."""
    claimed = session.execute(
        update(Notice)
        .where(col(Notice.id) == notice_id, col(Notice.status).in_(CLAIMABLE))
        .values(status=NoticeStatus.SENT, sent_at=now)
    )
    notice = _require(session, notice_id)
    session.refresh(notice)
    if not claimed.rowcount:  # type: ignore[attr-defined]  # an UPDATE returns a CursorResult, typed as Result
        return SendResult(False, notice.recipient_count)
    members = audiences.resolve(session, Audience.from_dict(notice.audience))
    locales = residents.reachable_locales(session, [m.resident_id for m in members])
    _record_recipients(session, notice, members, locales)
    notice.recipient_count = len(locales)
    session.add(notice)
    return SendResult(True, len(locales), notice, list(locales))


def due_notices(session: Session, *, now: datetime) -> list[int]:
    """Scheduled notices whose time has come (the scheduler sends them)."""
    return [
        int(nid)
        for nid in session.exec(
            select(Notice.id).where(
                Notice.status == NoticeStatus.SCHEDULED, col(Notice.scheduled_at) <= now
            )
        ).all()
        if nid is not None
    ]


def announce_event(
    session: Session, *, event_id: int, content: Content, now: datetime, **fields: Any
) -> SendResult:
    """Claim the invitation of the event's audience (the notice shows its card); once per
    event. The event is asked of the events feature (`hooks.ask_describe_event`)."""
    event = hooks.ask_describe_event(session, event_id, content, "ja", "")
    if event is None or not event.published:
        raise NoticeError("only published events can be announced")
    existing = _announcement(session, event_id)
    if existing is None:
        existing = create_notice(
            session,
            title=event.title,
            body=event.description or event.title,
            audience=_event_audience(event),
            now=now,
            event_id=event_id,
            association_id=event.association_id,
            kind="event_announcement",
            **fields,
        )
    return send_notice(session, notice_id=int(existing.id or 0), now=now)


def _announcement(session: Session, event_id: int) -> Notice | None:
    return session.exec(
        select(Notice).where(Notice.event_id == event_id, Notice.kind == "event_announcement")
    ).first()


def _event_audience(event: hooks.EventBrief) -> Audience:
    """Who an event's announcement goes to: its audience, else its association's members."""
    spec = event.audience or (
        Audience("association", (event.association_id,)).to_dict()
        if event.association_id
        else Audience("everyone").to_dict()
    )
    return Audience.from_dict(dict(spec))


ANNOUNCEMENT_MESSAGES = 2  # the text and the event card (`messages.notice_says`)


def preview_announcement(
    session: Session, event_id: int, content: Content
) -> hooks.AnnouncementPreview | None:
    """Reach and cost of announcing the event, before it is sent, as a notice's preview shows
    them; once announced, how many it reached. None unless the event is published."""
    event = hooks.ask_describe_event(session, event_id, content, "ja", "")
    if event is None or not event.published:
        return None
    cost = preview(
        session, audience=_event_audience(event), messages_per_recipient=ANNOUNCEMENT_MESSAGES
    )
    existing = _announcement(session, event_id)
    announced = existing is not None and existing.status == NoticeStatus.SENT
    return hooks.AnnouncementPreview(
        recipients=cost.recipients,
        api_calls=cost.api_calls,
        quota_messages=cost.quota_messages * cost.messages_per_recipient,
        messages_per_recipient=cost.messages_per_recipient,
        announced=announced,
        announced_recipients=existing.recipient_count if existing is not None else 0,
    )


def withdraw_event_notices(session: Session, event_id: int, now: datetime) -> None:
    """On `hooks.emit_event_cancelled`: queued pushes of notices linked to the event are
    withdrawn (a notice inviting to a cancelled event is pointless)."""
    linked = session.exec(select(Notice.id).where(Notice.event_id == event_id)).all()
    if linked:
        withdraw_queued(
            session,
            key_prefixes=[f"notice:{notice_id}:" for notice_id in linked],
            now=now,
            reason=f"event {event_id} cancelled",
        )


def _record_recipients(
    session: Session, notice: Notice, members: list[audiences.Member], locales: dict[int, str]
) -> None:
    rows = [
        {
            "notice_id": notice.id,
            "resident_id": m.resident_id,
            "association_id": m.association_id,
            "han": m.han,
            "household_key": m.household_key,
            "household_id": m.household_id,
            "locale": locales[m.resident_id],
        }
        for m in members
        if m.resident_id in locales
    ]
    for start in range(0, len(rows), 2000):
        session.execute(insert(NoticeRecipient), rows[start : start + 2000])


def localized(notice: Notice, locale: str) -> tuple[str, str]:
    """Title and body in `locale` when a translation was given, else the Japanese original."""
    given = notice.translations.get(locale) or {}
    return given.get("title") or notice.title, given.get("body") or notice.body


def acknowledge(session: Session, *, notice_id: int, resident_id: int, now: datetime) -> str:
    """確認しました: `recorded`, `already`, or `unknown` (not a notice sent to this resident)."""
    recipient = session.exec(
        select(NoticeRecipient.id).where(
            NoticeRecipient.notice_id == notice_id, NoticeRecipient.resident_id == resident_id
        )
    ).first()
    if recipient is None:
        return "unknown"
    if (
        session.exec(
            select(NoticeAck.id).where(
                NoticeAck.notice_id == notice_id, NoticeAck.resident_id == resident_id
            )
        ).first()
        is not None
    ):
        return "already"
    try:
        with session.begin_nested():
            session.add(NoticeAck(notice_id=notice_id, resident_id=resident_id, at=now))
    except IntegrityError:
        return "already"
    return "recorded"


def tick_paper_delivery(
    session: Session,
    *,
    notice_id: int,
    association_id: int,
    household: str,
    now: datetime,
    han: str = "",
    by_resident_id: int | None = None,
    by_staff_id: int | None = None,
    household_id: int | None = None,
) -> bool:
    """A 班長 ticks a household as handed the paper copy; False when already ticked."""
    _require(session, notice_id)
    # Compare what is stored: "12 " and "12" are the same household.
    household, han = household.strip()[:60], han.strip()[:40]
    if not household:
        return False
    exists = session.exec(
        select(PaperDelivery.id).where(
            PaperDelivery.notice_id == notice_id,
            PaperDelivery.association_id == association_id,
            PaperDelivery.han == han,
            PaperDelivery.household == household,
        )
    ).first()
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                PaperDelivery(
                    notice_id=notice_id,
                    association_id=association_id,
                    han=han,
                    household=household,
                    household_id=household_id,
                    ticked_by_resident_id=by_resident_id,
                    ticked_by_staff_id=by_staff_id,
                    at=now,
                )
            )
    except IntegrityError:
        return False
    return True


def ack_count(session: Session, *, notice_id: int) -> tuple[int, int]:
    """(acknowledged, recipients by LINE) — the stamps on the paper 回覧板."""
    from sqlalchemy import func

    acks = session.exec(
        select(func.count()).select_from(NoticeAck).where(NoticeAck.notice_id == notice_id)
    ).one()
    recipients = session.exec(
        select(func.count())
        .select_from(NoticeRecipient)
        .where(NoticeRecipient.notice_id == notice_id)
    ).one()
    return int(acks), int(recipients)


def recipients_of(session: Session, *, notice_id: int) -> list[int]:
    """Resident ids a notice went to by LINE (staff only; never shown with names here)."""
    return [
        int(r)
        for r in session.exec(
            select(NoticeRecipient.resident_id).where(NoticeRecipient.notice_id == notice_id)
        ).all()
    ]


def get_notice(session: Session, *, notice_id: int) -> Notice | None:
    """The notice, or None."""
    return session.get(Notice, notice_id)


def _require(session: Session, notice_id: int) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NoticeError(f"no notice {notice_id}")
    return notice
