"""A notice as residents read it in LINE, and pushing it through the Notifier.

The service (notices.py) claims a notice and records its recipients; `push_notice` here
renders it per locale and queues it under `notice:<id>:<locale>` in the same transaction.
An event a notice points at is asked of the events feature (`hooks.ask_describe_event`):
notices never read the events' tables, and the card shows the event as it is when sent.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.content import Content
from bot.conversation.engine import Say
from bot.conversation.notifier import Notifier
from bot.core import hooks
from bot.core.hooks import EventBrief
from bot.core.translated import organiser_text
from bot.features.notices import notices
from bot.features.notices.ack_flow import AckTap
from bot.features.notices.models import Notice
from bot.features.notices.notices import SendResult


def shown(notice: Notice, content: Content, locale: str) -> tuple[str, str]:
    """Title and body as the resident reads them: the organiser's translation, or the
    Japanese original marked (English) or with readings (easy Japanese), field by field,
    so a translated title never comes with an unmarked Japanese body."""
    return (
        organiser_text(notice.title, notice.translations, "title", locale, content),
        organiser_text(notice.body, notice.translations, "body", locale, content),
    )


def notice_says(
    notice: Notice, content: Content, locale: str, event: EventBrief | None = None
) -> list[Say]:
    """The LINE messages of a notice in one locale: text, then the event card, ack button last.

    `notices.message_count` counts these for the cost preview; keep the two in step."""
    title, body = shown(notice, content, locale)
    says = [Say("notices.message", {"title": title, "body": body})]
    if notice.image_url:
        says.append(
            Say(
                "notices.image_alt",
                {"title": title, "image_url": notice.image_url},
                flex="notice_image",
            )
        )
    if event is not None:
        says.append(Say(event.card_key, dict(event.card_params), flex=event.card_flex))
    if notice.ack_requested:  # a button in a bubble stays tappable, unlike a quick reply
        ack_data = AckTap(notice.id or 0).encode()
        says.append(
            Say("notices.ack_alt", {"title": title, "ack_data": ack_data}, flex="notice_ack")
        )
    return says


def push_notice(
    notifier: Notifier, session: Session, now: datetime, sent: SendResult, base_url: str
) -> None:
    """Queue a notice just claimed by `notices.send_notice` to its recipients, each in their
    locale; nothing when it was not claimed (sent before or cancelled)."""
    notice = sent.notice
    if not sent.sent or notice is None:
        return
    content = notifier.content

    def says_for(locale: str) -> list[Say]:
        event = None
        if notice.event_id is not None:
            event = hooks.ask_describe_event(session, notice.event_id, content, locale, base_url)
            if event is not None and not event.published:
                event = None  # never invite to a draft or a cancelled event
        return notice_says(notice, content, locale, event)

    notifier.push(
        session,
        now,
        key=f"notice:{notice.id}",
        kind="notice",
        resident_ids=sent.resident_ids,
        urgent=notice.urgent,
        says_for=says_for,
    )


def send_notice(
    notifier: Notifier, session: Session, now: datetime, notice_id: int, base_url: str
) -> SendResult:
    """Send now to the resolved audience, each resident in their locale, once ever."""
    sent = notices.send_notice(session, notice_id=notice_id, now=now)
    push_notice(notifier, session, now, sent, base_url)
    return sent


def announce_event(
    session: Session,
    event_id: int,
    notifier: Notifier,
    now: datetime,
    base_url: str,
    author_resident_id: int | None = None,
) -> SendResult:
    """Invite the event's audience with its card (参加/未定/不参加), once per event
    (`hooks.ask_announce_event` is answered with this)."""
    sent = notices.announce_event(
        session,
        event_id=event_id,
        content=notifier.content,
        now=now,
        author_resident_id=author_resident_id,
    )
    push_notice(notifier, session, now, sent, base_url)
    return sent
