"""What residents are told about events, and telling them through the Notifier.

The services (events.py, rsvp.py, proxy.py, reminders.py, checkin.py) change the tables and
return what happened; flows, staff pages and jobs hand those results to the `tell_*`
functions here, which build the messages per locale and push them under stable keys, so
the same cause told twice sends once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlmodel import Session

from bot.content import Content
from bot.conversation.engine import Option, Say
from bot.conversation.notifier import Notifier
from bot.core.hooks import Commitment, EventBrief
from bot.core.translated import organiser_text
from bot.core.when import when_text
from bot.features.events.actions import ANSWERS, CancelRsvp, EventCard, OfferReply, RsvpTap
from bot.features.events.events import EventCancel, EventEdit, upcoming_for_resident
from bot.features.events.models import Event, EventStatus, WaitlistOffer
from bot.features.events.rsvp import Expiry

CARD_KEY, CARD_FLEX = "events.card_alt", "event_card"


def shown(event: Event, field: str, content: Content, locale: str) -> str:
    """An organiser's field (title, description, place) in the resident's language, or the
    Japanese original marked as such (bot.core.translated)."""
    original = str(getattr(event, field) or "")
    return organiser_text(
        original, event.translations, field, locale, content, proper_noun=field == "place"
    )


def describe(event: Event, content: Content, locale: str) -> dict[str, Any]:
    """Texts about the event for messages and cards, with times in Tokyo time."""
    return {
        "event_id": event.id,
        "title": shown(event, "title", content, locale),
        "when": when_text(event.starts_at, event.ends_at, content, locale),
        "place": shown(event, "place", content, locale)
        or content.text("events.place_unset", locale),
        "deadline": (
            when_text(event.rsvp_deadline, None, content, locale)
            if event.rsvp_deadline
            else content.text("events.no_deadline", locale)
        ),
        # An unknown code (an old row, a hand-edited import) reads as 行事, never raw.
        "category": content.text(f"events.categories.{event.category}", locale)
        if content.has(f"events.categories.{event.category}")
        else content.text("events.categories.other", locale),
    }


def card_params(event: Event, content: Content, locale: str, base_url: str) -> dict[str, Any]:
    """The event card's parameters in `locale`; links are absolute under `base_url`."""
    base = base_url.rstrip("/")
    return {
        **describe(event, content, locale),
        "description": shown(event, "description", content, locale)[:300],
        "image_url": event.image_url or "",
        "capacity": (
            content.text("events.capacity", locale, capacity=event.capacity)
            if event.capacity
            else ""
        ),
        "ics_url": calendar_url(event, base),
        "map_url": _map_url(event),
        "postbacks": {a: RsvpTap(event.id or 0, a).encode() for a in ANSWERS},
    }


def calendar_url(event: Event, base_url: str) -> str:
    """The event's `.ics` link; its token is what lets a calendar app (or anyone) read it."""
    return f"{base_url.rstrip('/')}/events/{event.id}.ics?t={event.calendar_token}"


def event_card_say(event: Event, content: Content, locale: str, base_url: str) -> Say:
    """The event card (a flex bubble with 参加 / 未定 / 不参加 buttons) in `locale`."""
    return Say(CARD_KEY, card_params(event, content, locale, base_url), flex=CARD_FLEX)


def _map_url(event: Event) -> str:
    if event.latitude is None or event.longitude is None:
        return ""
    query = quote(f"{event.latitude:.6f},{event.longitude:.6f}")
    return f"https://www.google.com/maps/search/?api=1&query={query}"


def describe_for_notice(
    session: Session, event_id: int, content: Content, locale: str, base_url: str
) -> EventBrief | None:
    """Answers `hooks.ask_describe_event`: the event a notice points at, as it shows it."""
    event = session.get(Event, event_id)
    if event is None:
        return None
    return EventBrief(
        event_id=event_id,
        title=event.title,
        description=event.description or "",
        association_id=event.association_id,
        audience=dict(event.audience or {}),
        published=event.status == EventStatus.PUBLISHED,
        info=describe(event, content, locale),
        card_key=CARD_KEY,
        card_flex=CARD_FLEX,
        card_params=card_params(event, content, locale, base_url),
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


def reminder_say(event: Event, content: Content, locale: str) -> Say:
    """The reminder text in the resident's locale."""
    return Say("scheduler.event_reminder", describe(event, content, locale))


def offer_say(event: Event, offer: WaitlistOffer, content: Content, locale: str) -> Say:
    """A place freed on the waitlist, with buttons to take or decline it."""
    params = {
        **describe(event, content, locale),
        "expires": when_text(offer.expires_at, None, content, locale),
    }
    options = (
        Option("rsvp.offer_accept", OfferReply(offer.id or 0, "yes").encode()),
        Option("rsvp.offer_decline", OfferReply(offer.id or 0, "no").encode()),
    )
    return Say("rsvp.offer", params, options)


# --- telling ------------------------------------------------------------------------------


def tell_offers(
    notifier: Notifier,
    session: Session,
    now: datetime,
    event: Event,
    offers: Iterable[WaitlistOffer],
) -> None:
    """Tell each resident offered a place (key `waitlist-offer:<offer>`)."""
    content = notifier.content
    for offer in offers:

        def says(locale: str, offer: WaitlistOffer = offer) -> list[Say]:
            return [offer_say(event, offer, content, locale)]

        notifier.push(
            session,
            now,
            key=f"waitlist-offer:{offer.id}",
            kind="rsvp",
            resident_ids=[offer.resident_id],
            says_for=says,
        )


def tell_edit(notifier: Notifier, session: Session, now: datetime, edit: EventEdit) -> None:
    """Tell answerers what changed (when it is worth it) and the waitlist of freed places."""
    event, content = edit.event, notifier.content
    if edit.told:
        notifier.push(
            session,
            now,
            key=f"event-changed:{event.id}:{event.revision}",
            kind="event",
            resident_ids=edit.answerers,
            says_for=lambda locale: [change_say(event, edit.told, content, locale)],
        )
    tell_offers(notifier, session, now, event, edit.offers)


def tell_cancelled(notifier: Notifier, session: Session, now: datetime, cancel: EventCancel) -> int:
    """Tell everyone who answered that the event is off; returns outbox messages queued (one
    per language; 0 when there was nobody to tell, e.g. cancelled before)."""
    if not cancel.answerers:
        return 0
    event, content = cancel.event, notifier.content
    params = describe(event, content, "ja")
    queued = len(notifier.locales_of(session, cancel.answerers))
    notifier.push(
        session,
        now,
        key=f"event-cancelled:{event.id}",
        kind="event",
        resident_ids=cancel.answerers,
        says_for=lambda locale: [
            Say("events.cancelled_notice", {**params, **describe(event, content, locale)})
        ],
    )
    return queued


def tell_expiry(notifier: Notifier, session: Session, now: datetime, expiry: Expiry) -> int:
    """Tell residents whose offer ran out, then those offered the places; returns how many
    offers ran out."""
    content = notifier.content
    for offer in expiry.expired:

        def says(locale: str, event: Event = expiry.events[offer.event_id]) -> list[Say]:
            return [Say("rsvp.offer_expired", describe(event, content, locale))]

        notifier.push(
            session,
            now,
            key=f"waitlist-offer-expired:{offer.id}",
            kind="rsvp",
            resident_ids=[offer.resident_id],
            says_for=says,
        )
    for offer in expiry.offers:
        tell_offers(notifier, session, now, expiry.events[offer.event_id], [offer])
    return len(expiry.expired)


def commitments(
    session: Session, resident_id: int, now: datetime, content: Content, locale: str, _tz: Any
) -> list[Commitment]:
    """The events the resident answered 参加 or 未定 (or waits for), for わたしの出欠."""
    found = []
    for event, answer in upcoming_for_resident(session, resident_id=resident_id, now=now):
        state = content.text(f"rsvp.state.{answer.answer}", locale)
        line = content.text(
            "rsvp.my_events_line", locale, state=state, **describe(event, content, locale)
        )
        event_id = int(event.id or 0)
        found.append(
            Commitment(
                event.starts_at,
                line,
                change=EventCard(event_id).encode(),
                cancel=CancelRsvp(event_id).encode(),
            )
        )
    return found
