"""Events: create, publish, edit (answerers are told what changed), cancel, check in.

Keyword-only functions with the session first, shared by LINE flows and the staff web. Pushes
go through `event_pushes` (the delivery outbox) with stable keys, so a repeated call is harmless.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.content import Content
from bot.conversation import event_pushes
from bot.conversation.engine import Say
from bot.conversation.render import Renderer
from bot.features.events.models import Event, EventStatus, Rsvp, RsvpAnswer
from bot.platform.delivery.withdraw import withdraw_queued

TOKYO = ZoneInfo("Asia/Tokyo")
EDITABLE = (
    "title",
    "category",
    "description",
    "place",
    "latitude",
    "longitude",
    "starts_at",
    "ends_at",
    "capacity",
    "headcount_allowed",
    "max_party",
    "rsvp_deadline",
    "audience",
    "image_url",
)
# Changes answerers are told about (a typo in the description is not worth a push).
TOLD_FIELDS = ("title", "starts_at", "ends_at", "place", "rsvp_deadline")
ANSWERED = (RsvpAnswer.GOING, RsvpAnswer.MAYBE, RsvpAnswer.WAITLISTED)


class EventError(Exception):
    """A request the event cannot take (e.g. editing a cancelled event)."""


def create_event(
    session: Session,
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    publish: bool = False,
    **fields: Any,
) -> Event:
    """A new event (draft unless `publish`); `fields` are any of EDITABLE plus organiser ids."""
    if ends_at < starts_at:
        raise EventError("ends before it starts")
    event = Event(
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        checkin_code=_new_checkin_code(),
        created_at=now,
        updated_at=now,
        **fields,
    )
    if publish:
        event.status, event.published_at = EventStatus.PUBLISHED, now
    session.add(event)
    session.flush()
    return event


def get_event(session: Session, *, event_id: int) -> Event | None:
    """The event, or None."""
    return session.get(Event, event_id)


def publish_event(session: Session, *, event_id: int, now: datetime) -> Event:
    """Open a draft for RSVPs."""
    event = _require(session, event_id)
    if event.status == EventStatus.CANCELLED:
        raise EventError("cancelled events cannot be published")
    if event.status == EventStatus.DRAFT:
        event.status, event.published_at, event.updated_at = EventStatus.PUBLISHED, now, now
        session.add(event)
    return event


def update_event(
    session: Session,
    *,
    event_id: int,
    changes: Mapping[str, Any],
    renderer: Renderer,
    now: datetime,
) -> list[str]:
    """Apply `changes`; when published, tell those who answered what changed. Returns fields."""
    event = _require(session, event_id)
    if event.status == EventStatus.CANCELLED:
        raise EventError("a cancelled event cannot be edited")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise EventError(f"not editable: {sorted(unknown)}")
    before = {name: getattr(event, name) for name in changes}
    for name, value in changes.items():
        setattr(event, name, value)
    if event.ends_at < event.starts_at:
        raise EventError("ends before it starts")
    changed = [name for name in changes if before[name] != getattr(event, name)]
    event.updated_at = now
    session.add(event)
    told = [name for name in TOLD_FIELDS if name in changed]
    if event.status == EventStatus.PUBLISHED and told:
        event.revision += 1
        _tell_answerers(
            session,
            event,
            renderer,
            f"event-changed:{event.id}:{event.revision}",
            lambda locale: [change_say(event, told, renderer.content, locale)],
            now,
        )
    if "capacity" in changed:
        from bot.features.events import rsvp  # rsvp depends on this module

        rsvp.fill_free_places(session, event=event, renderer=renderer, now=now)
    return changed


def cancel_event(session: Session, *, event_id: int, renderer: Renderer, now: datetime) -> int:
    """Cancel the event and tell everyone who answered; returns outbox messages enqueued."""
    event = _require(session, event_id)
    if event.status == EventStatus.CANCELLED:
        return 0
    was_published = event.status == EventStatus.PUBLISHED
    event.status, event.cancelled_at, event.updated_at = EventStatus.CANCELLED, now, now
    session.add(event)
    from bot.features.events import rsvp

    rsvp.withdraw_offers(session, event_id=event_id, now=now)
    withdraw_queued(
        session,
        key_prefixes=queued_key_prefixes(session, event),
        now=now,
        reason=f"event {event_id} cancelled",
    )
    if not was_published:
        return 0
    params = describe(event, renderer.content, "ja")
    return _tell_answerers(
        session,
        event,
        renderer,
        f"event-cancelled:{event.id}",
        lambda locale: [
            Say("events.cancelled_notice", {**params, **describe(event, renderer.content, locale)})
        ],
        now,
    )


def queued_key_prefixes(session: Session, event: Event) -> list[str]:
    """Outbox key prefixes of pushes about the event that are pointless once it is cancelled:
    reminders (bot/features/events/reminders.py), change notices, waitlist offers and notices
    linked to it. The cancellation notice itself (`event-cancelled:`) is not among them."""
    from bot.features.events.models import WaitlistOffer
    from bot.features.notices.models import Notice

    offers = session.exec(select(WaitlistOffer.id).where(WaitlistOffer.event_id == event.id)).all()
    notices = session.exec(select(Notice.id).where(Notice.event_id == event.id)).all()
    return [
        f"event-reminder:{event.id}:",
        f"event-changed:{event.id}:",
        *(f"waitlist-offer:{offer_id}:" for offer_id in offers),
        *(f"notice:{notice_id}:" for notice_id in notices),
    ]


def _tell_answerers(
    session: Session, event: Event, renderer: Renderer, key: str, says_for: Any, now: datetime
) -> int:
    ids = session.exec(
        select(Rsvp.resident_id).where(
            Rsvp.event_id == event.id, col(Rsvp.answer).in_([str(a) for a in ANSWERED])
        )
    ).all()
    return event_pushes.tell(
        session,
        renderer=renderer,
        key=key,
        kind="event",
        resident_ids=ids,
        says_for=says_for,
        now=now,
    )


def change_say(event: Event, fields: list[str], content: Content, locale: str) -> Say:
    """One message listing what changed, in the resident's locale."""
    info = describe(event, content, locale)
    lines = [
        content.text(f"events.changed_field.{name}", locale, **info)
        for name in fields
        if name != "ends_at" or "starts_at" not in fields
    ]
    return Say("events.changed_notice", {**info, "changes": "\n".join(lines)})


def describe(event: Event, content: Content, locale: str) -> dict[str, Any]:
    """Texts about the event for messages and cards, with times in Tokyo time."""
    return {
        "event_id": event.id,
        "title": event.title,
        "when": when_text(event.starts_at, event.ends_at, content, locale),
        "place": event.place or content.text("events.place_unset", locale),
        "deadline": (
            when_text(event.rsvp_deadline, None, content, locale)
            if event.rsvp_deadline
            else content.text("events.no_deadline", locale)
        ),
        "category": content.text(f"events.categories.{event.category}", locale)
        if content.has(f"events.categories.{event.category}")
        else event.category,
    }


def when_text(start: datetime, end: datetime | None, content: Content, locale: str) -> str:
    """'12月1日(日) 10:00〜12:00' in the resident's locale, Tokyo time."""
    local = start.astimezone(TOKYO)
    weekdays = content.text("events.weekdays", locale).split(",")
    text = content.text(
        "events.date",
        locale,
        month=local.month,
        day=local.day,
        weekday=weekdays[local.weekday()],
        time=local.strftime("%H:%M"),
    )
    if end is not None:
        text += content.text("events.until", locale, time=end.astimezone(TOKYO).strftime("%H:%M"))
    return text


def upcoming_for_resident(
    session: Session, *, resident_id: int, now: datetime, limit: int = 10
) -> list[tuple[Event, Rsvp]]:
    """Events not yet ended that the resident answered going, maybe or waitlisted."""
    rows = session.exec(
        select(Event, Rsvp)
        .join(Rsvp, col(Rsvp.event_id) == col(Event.id))
        .where(
            Rsvp.resident_id == resident_id,
            col(Rsvp.answer).in_([str(a) for a in ANSWERED]),
            col(Event.ends_at) > now,
            Event.status == EventStatus.PUBLISHED,
        )
        .order_by(col(Event.starts_at))
        .limit(limit)
    ).all()
    return [(event, rsvp) for event, rsvp in rows]


def published_upcoming(session: Session, *, now: datetime, limit: int = 10) -> list[Event]:
    """Published events that have not started, soonest first."""
    return list(
        session.exec(
            select(Event)
            .where(Event.status == EventStatus.PUBLISHED, col(Event.starts_at) > now)
            .order_by(col(Event.starts_at))
            .limit(limit)
        ).all()
    )


def open_for_resident(
    session: Session, *, resident_id: int, now: datetime, limit: int = 4
) -> list[Event]:
    """Upcoming published events the resident is invited to: their associations' and open ones."""
    from bot.core.models.membership import Membership, MembershipStatus

    mine = set(
        session.exec(
            select(Membership.association_id).where(
                Membership.resident_id == resident_id,
                Membership.status == MembershipStatus.APPROVED,
            )
        ).all()
    )
    found = []
    for event in published_upcoming(session, now=now, limit=50):
        public = event.association_id is None or event.audience.get("scope") == "everyone"
        if public or event.association_id in mine:
            found.append(event)
    return found[:limit]


def invites(session: Session, *, event: Event, resident_id: int) -> bool:
    """Whether the event's audience includes the resident (who may then answer it).

    An event without an audience spec is for its association's members, or for everyone
    when no association holds it (as `open_for_resident` lists them).
    """
    from bot.core.audience import Audience, AudienceError, in_scope

    spec = event.audience or {}
    if not spec.get("scope"):
        if event.association_id is None:
            return True
        spec = {"scope": "association", "ids": [event.association_id]}
    try:
        audience = Audience.from_dict(spec)
    except (AudienceError, TypeError, ValueError):
        return False  # a malformed spec invites nobody rather than everybody
    return in_scope(session, audience, resident_id)


def _require(session: Session, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise EventError(f"no event {event_id}")
    return event


def _new_checkin_code() -> str:
    from bot.features.events.checkin import new_code  # check-in builds on this module

    return new_code()
