"""Events: create, publish, edit, cancel; what residents are invited to and answered.

Keyword-only functions with the session first, shared by LINE flows and the staff web. They
change the tables and return what happened (who answered, which places were offered); the
caller tells residents through the Notifier (bot/features/events/messages.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists
from sqlmodel import Session, col, select

from bot.core import hooks
from bot.core.models.membership import Membership, MembershipStatus
from bot.features.events import codes, rsvp
from bot.features.events.models import (
    CheckIn,
    Event,
    EventStatus,
    Rsvp,
    RsvpAnswer,
    WaitlistOffer,
)
from bot.platform.delivery.withdraw import withdraw_queued

EDITABLE = (
    "title",
    "translations",
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
        checkin_code=codes.new_code(),
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


@dataclass(frozen=True)
class EventEdit:
    """What an edit did: the fields that changed, those answerers are told about (empty when
    nobody is told), who answered, and the places it freed and offered to the waitlist."""

    event: Event
    changed: list[str]
    told: list[str] = field(default_factory=list)
    answerers: list[int] = field(default_factory=list)
    offers: list[WaitlistOffer] = field(default_factory=list)


def update_event(
    session: Session,
    *,
    event_id: int,
    changes: Mapping[str, Any],
    now: datetime,
    offer_for: timedelta = rsvp.DEFAULT_OFFER_TIME,
) -> EventEdit:
    """Apply `changes`. When published and a told field changed, the revision goes up and the
    result names the answerers to tell (key `event-changed:<id>:<revision>`)."""
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
    answerers: list[int] = []
    if event.status == EventStatus.PUBLISHED and told:
        event.revision += 1
        answerers = answerers_of(session, event_id=event_id)
    else:
        told = []
    offers: list[WaitlistOffer] = []
    if "capacity" in changed:
        offers = rsvp.fill_free_places(session, event=event, now=now, offer_for=offer_for)
    return EventEdit(event, changed, told, answerers, offers)


@dataclass(frozen=True)
class EventCancel:
    """A cancellation: `answerers` are to be told (empty when it was a draft or already
    cancelled, so cancelling twice tells nobody twice)."""

    event: Event
    answerers: list[int] = field(default_factory=list)


def cancel_event(session: Session, *, event_id: int, now: datetime) -> EventCancel:
    """Cancel the event: open offers close, queued pushes about it are withdrawn, features
    that care hear of it (`hooks.emit_event_cancelled`: notices withdraw theirs)."""
    event = _require(session, event_id)
    if event.status == EventStatus.CANCELLED:
        return EventCancel(event)
    was_published = event.status == EventStatus.PUBLISHED
    event.status, event.cancelled_at, event.updated_at = EventStatus.CANCELLED, now, now
    session.add(event)
    rsvp.withdraw_offers(session, event_id=event_id, now=now)
    withdraw_queued(
        session,
        key_prefixes=queued_key_prefixes(session, event),
        now=now,
        reason=f"event {event_id} cancelled",
    )
    hooks.emit_event_cancelled(session, event_id, now)
    if not was_published:
        return EventCancel(event)
    return EventCancel(event, answerers_of(session, event_id=event_id))


def queued_key_prefixes(session: Session, event: Event) -> list[str]:
    """Outbox key prefixes of pushes about the event that are pointless once it is cancelled:
    reminders (bot/features/events/reminders.py), change notices and waitlist offers (the
    notices linked to it withdraw theirs on `hooks.emit_event_cancelled`). The cancellation
    notice itself (`event-cancelled:`) is not among them."""
    offers = session.exec(select(WaitlistOffer.id).where(WaitlistOffer.event_id == event.id)).all()
    return [
        f"event-reminder:{event.id}:",
        f"event-changed:{event.id}:",
        *(f"waitlist-offer:{offer_id}:" for offer_id in offers),
    ]


def answerers_of(session: Session, *, event_id: int) -> list[int]:
    """Residents who answered going, maybe or waitlisted: those told of changes."""
    return [
        int(rid)
        for rid in session.exec(
            select(Rsvp.resident_id).where(
                Rsvp.event_id == event_id, col(Rsvp.answer).in_([str(a) for a in ANSWERED])
            )
        ).all()
    ]


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


def _require(session: Session, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise EventError(f"no event {event_id}")
    return event


def took_part(resident_id: Any) -> Any:
    """Answers `hooks.participation_conditions`: the resident in the column `resident_id`
    checked in at an event or said they would come to one."""
    return exists().where(col(CheckIn.resident_id) == resident_id) | exists().where(
        col(Rsvp.resident_id) == resident_id, col(Rsvp.answer) == RsvpAnswer.GOING
    )
