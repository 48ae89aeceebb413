"""RSVPs: answer and change until the deadline, capacity and a FIFO waitlist with timed offers.

Capacity counts people (adults + children) of `going` answers plus places held by open offers.
Over capacity a `going` answer becomes `waitlisted` with a position. A freed place is offered
to the first on the waitlist for a limited time; declining or letting it expire offers it to
the next. Every decision about one event happens under a row lock on the event (PostgreSQL;
SQLite serialises writers anyway).

Nothing here tells anyone: results name the offers made and the offers that ran out, and
the caller tells those residents (bot/features/events/messages.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot.core.audience import Audience, AudienceError, in_scope
from bot.core.models.residents import Resident
from bot.features.events.models import (
    Event,
    EventStatus,
    Rsvp,
    RsvpAnswer,
    WaitlistOffer,
    WaitlistOfferStatus,
)

DEFAULT_OFFER_TIME = timedelta(hours=12)
MIN_OFFER_TIME = timedelta(minutes=30)


@dataclass(frozen=True)
class RsvpResult:
    """What an answer did.

    `status`: saved, waitlisted, closed (deadline passed), not_open (draft/cancelled/unknown),
    invalid (party size out of range), full (a going party could not grow), not_invited (the
    resident is outside the event's audience; nothing stored).
    """

    status: str
    rsvp: Rsvp | None = None
    position: int | None = None
    offers: list[WaitlistOffer] = field(default_factory=list)


def deadline_of(event: Event) -> datetime:
    """When answers stop being accepted: the RSVP deadline, else the start."""
    return event.rsvp_deadline or event.starts_at


def is_open(event: Event, now: datetime) -> bool:
    """True while the event takes and changes answers."""
    return event.status == EventStatus.PUBLISHED and now < deadline_of(event)


def answer(
    session: Session,
    *,
    event_id: int,
    resident_id: int,
    choice: str,
    now: datetime,
    adults: int = 1,
    children: int = 0,
    needs: str | None = None,
    entered_by_resident_id: int | None = None,
    entered_by_staff_id: int | None = None,
    proxy_label: str = "",
    offer_for: timedelta = DEFAULT_OFFER_TIME,
) -> RsvpResult:
    """Record or change a resident's answer (going / maybe / not), or refuse politely."""
    event = _lock_event(session, event_id)
    if event is None or event.status != EventStatus.PUBLISHED:
        return RsvpResult("not_open")
    if now >= deadline_of(event):
        return RsvpResult("closed", find(session, event_id=event_id, resident_id=resident_id))
    proxy = entered_by_resident_id is not None or entered_by_staff_id is not None
    if not proxy and not may_answer(session, event=event, resident_id=resident_id, choice=choice):
        return RsvpResult("not_invited")
    if not event.headcount_allowed:
        adults, children = 1, 0
    if adults < 1 or children < 0 or adults + children > event.max_party:
        return RsvpResult("invalid")
    rsvp = find(session, event_id=event_id, resident_id=resident_id)
    if rsvp is None:
        rsvp = Rsvp(
            event_id=event_id,
            resident_id=resident_id,
            answer=RsvpAnswer.NOT,
            adults=adults,
            children=children,
            created_at=now,
        )
    rsvp.entered_by_resident_id = entered_by_resident_id
    rsvp.entered_by_staff_id = entered_by_staff_id
    rsvp.proxy_label = proxy_label or rsvp.proxy_label
    if needs is not None:
        rsvp.needs = needs.strip()[:300]
    if choice == RsvpAnswer.GOING:
        result = _going(session, event, rsvp, adults, children, now)
    else:
        result = _not_going(session, event, rsvp, RsvpAnswer(choice), adults, children, now)
    offers = fill_free_places(session, event=event, now=now, offer_for=offer_for)
    return RsvpResult(result.status, result.rsvp, result.position, offers)


def may_answer(session: Session, *, event: Event, resident_id: int, choice: str) -> bool:
    """A resident in the event's audience may answer; one who answered before (and has since
    left the audience, e.g. moved away) may still withdraw with 不参加."""
    if invites(session, event=event, resident_id=resident_id):
        return True
    return (
        choice == RsvpAnswer.NOT
        and find(session, event_id=int(event.id or 0), resident_id=resident_id) is not None
    )


def invites(session: Session, *, event: Event, resident_id: int) -> bool:
    """Whether the event's audience includes the resident (who may then answer it).

    An event without an audience spec is for its association's members, or for everyone
    when no association holds it (as `open_for_resident` lists them).
    """
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


def _going(
    session: Session, event: Event, rsvp: Rsvp, adults: int, children: int, now: datetime
) -> RsvpResult:
    offer = open_offer(session, rsvp_id=rsvp.id) if rsvp.id else None
    if offer is not None:  # saying "going" again while offered a place accepts it
        return _accept(session, offer, rsvp, now)
    if rsvp.answer == RsvpAnswer.WAITLISTED:
        _save(session, rsvp, now)
        return RsvpResult("waitlisted", rsvp, waitlist_position(session, rsvp=rsvp))
    free = free_places(session, event, exclude_rsvp_id=rsvp.id)
    shrinking = rsvp.answer == RsvpAnswer.GOING and adults + children <= rsvp.party
    if free is None or shrinking or adults + children <= free:
        rsvp.answer, rsvp.adults, rsvp.children = RsvpAnswer.GOING, adults, children
        rsvp.waitlisted_at = None
        _save(session, rsvp, now)
        return RsvpResult("saved", rsvp)
    if rsvp.answer == RsvpAnswer.GOING:  # already has places; the larger party does not fit
        _save(session, rsvp, now)
        return RsvpResult("full", rsvp)
    rsvp.answer, rsvp.adults, rsvp.children = RsvpAnswer.WAITLISTED, adults, children
    rsvp.waitlisted_at = now
    _save(session, rsvp, now)
    return RsvpResult("waitlisted", rsvp, waitlist_position(session, rsvp=rsvp))


def _not_going(
    session: Session,
    event: Event,
    rsvp: Rsvp,
    choice: RsvpAnswer,
    adults: int,
    children: int,
    now: datetime,
) -> RsvpResult:
    if choice not in (RsvpAnswer.MAYBE, RsvpAnswer.NOT):
        return RsvpResult("invalid")
    if rsvp.id is not None:
        _close_offer(session, rsvp_id=rsvp.id, status=WaitlistOfferStatus.WITHDRAWN, now=now)
    rsvp.answer, rsvp.adults, rsvp.children = choice, adults, children
    rsvp.waitlisted_at = None
    _save(session, rsvp, now)
    return RsvpResult("saved", rsvp)


def find(session: Session, *, event_id: int, resident_id: int) -> Rsvp | None:
    """The resident's answer to the event, if any."""
    return session.exec(
        select(Rsvp).where(Rsvp.event_id == event_id, Rsvp.resident_id == resident_id)
    ).first()


def free_places(session: Session, event: Event, exclude_rsvp_id: int | None = None) -> int | None:
    """Places left (None: no limit), counting going parties and places held by open offers."""
    if event.capacity is None:
        return None
    going = select(func.coalesce(func.sum(col(Rsvp.adults) + col(Rsvp.children)), 0)).where(
        Rsvp.event_id == event.id, Rsvp.answer == RsvpAnswer.GOING
    )
    held = select(func.coalesce(func.sum(WaitlistOffer.party), 0)).where(
        WaitlistOffer.event_id == event.id, WaitlistOffer.status == WaitlistOfferStatus.OPEN
    )
    if exclude_rsvp_id is not None:
        going = going.where(Rsvp.id != exclude_rsvp_id)
        held = held.where(WaitlistOffer.rsvp_id != exclude_rsvp_id)
    used = int(session.exec(going).one()) + int(session.exec(held).one())
    return max(event.capacity - used, 0)


def waitlist_position(session: Session, *, rsvp: Rsvp) -> int:
    """1 for the first on the waitlist."""
    ahead = session.exec(
        select(func.count())
        .select_from(Rsvp)
        .where(
            Rsvp.event_id == rsvp.event_id,
            Rsvp.answer == RsvpAnswer.WAITLISTED,
            (col(Rsvp.waitlisted_at) < rsvp.waitlisted_at)
            | ((col(Rsvp.waitlisted_at) == rsvp.waitlisted_at) & (col(Rsvp.id) < rsvp.id)),
        )
    ).one()
    return int(ahead) + 1


def open_offer(session: Session, *, rsvp_id: int | None) -> WaitlistOffer | None:
    """The open offer made to this answer, if any."""
    return session.exec(
        select(WaitlistOffer).where(
            WaitlistOffer.rsvp_id == rsvp_id, WaitlistOffer.status == WaitlistOfferStatus.OPEN
        )
    ).first()


def fill_free_places(
    session: Session,
    *,
    event: Event,
    now: datetime,
    offer_for: timedelta = DEFAULT_OFFER_TIME,
) -> list[WaitlistOffer]:
    """Offer free places to the waitlist in order (first come, first offered); returns the
    offers made (the caller tells those residents)."""
    if event.status != EventStatus.PUBLISHED or now >= event.starts_at:
        return []
    free = free_places(session, event)
    made: list[WaitlistOffer] = []
    for rsvp in _waiting_without_offer(session, event):
        if free is not None and rsvp.party > free:
            break  # strictly in order: nobody jumps the queue with a smaller party
        expires = min(now + offer_for, max(event.starts_at, now + MIN_OFFER_TIME))
        offer = WaitlistOffer(
            event_id=int(event.id or 0),
            rsvp_id=int(rsvp.id or 0),
            resident_id=rsvp.resident_id,
            party=rsvp.party,
            offered_at=now,
            expires_at=expires,
        )
        session.add(offer)
        session.flush()
        made.append(offer)
        free = None if free is None else free - rsvp.party
    return made


def _waiting_without_offer(session: Session, event: Event) -> Sequence[Rsvp]:
    offered = select(WaitlistOffer.rsvp_id).where(
        WaitlistOffer.event_id == event.id, WaitlistOffer.status == WaitlistOfferStatus.OPEN
    )
    return session.exec(
        select(Rsvp)
        .where(
            Rsvp.event_id == event.id,
            Rsvp.answer == RsvpAnswer.WAITLISTED,
            col(Rsvp.id).not_in(offered),
        )
        .order_by(col(Rsvp.waitlisted_at), col(Rsvp.id))
    ).all()


def respond_to_offer(
    session: Session,
    *,
    offer_id: int,
    resident_id: int,
    accept: bool,
    now: datetime,
    offer_for: timedelta = DEFAULT_OFFER_TIME,
) -> RsvpResult:
    """The resident takes or declines the place offered; status `expired` when too late."""
    offer = session.get(WaitlistOffer, offer_id)
    if offer is None or offer.resident_id != resident_id:
        return RsvpResult("not_open")
    event = _lock_event(session, offer.event_id)
    rsvp = session.get(Rsvp, offer.rsvp_id)
    if event is None or rsvp is None:
        return RsvpResult("not_open")
    if offer.status != WaitlistOfferStatus.OPEN or now >= offer.expires_at:
        return RsvpResult("expired", rsvp)
    if accept:
        return _accept(session, offer, rsvp, now)
    _close_offer(session, rsvp_id=int(rsvp.id or 0), status=WaitlistOfferStatus.DECLINED, now=now)
    rsvp.answer, rsvp.waitlisted_at = RsvpAnswer.NOT, None
    _save(session, rsvp, now)
    offers = fill_free_places(session, event=event, now=now, offer_for=offer_for)
    return RsvpResult("saved", rsvp, offers=offers)


def _accept(session: Session, offer: WaitlistOffer, rsvp: Rsvp, now: datetime) -> RsvpResult:
    offer.status, offer.answered_at = WaitlistOfferStatus.ACCEPTED, now
    session.add(offer)
    rsvp.answer, rsvp.waitlisted_at = RsvpAnswer.GOING, None
    _save(session, rsvp, now)
    return RsvpResult("saved", rsvp)


@dataclass(frozen=True)
class Expiry:
    """Offers that ran out (each resident is told) and the places offered on in their stead."""

    expired: list[WaitlistOffer] = field(default_factory=list)
    offers: list[WaitlistOffer] = field(default_factory=list)
    events: dict[int, Event] = field(default_factory=dict)


def expire_offers(
    session: Session, now: datetime, *, offer_for: timedelta = DEFAULT_OFFER_TIME
) -> Expiry:
    """Scheduler job body: close offers past their time and offer the next in line."""
    due = session.exec(
        select(WaitlistOffer)
        .where(
            WaitlistOffer.status == WaitlistOfferStatus.OPEN, col(WaitlistOffer.expires_at) <= now
        )
        .order_by(col(WaitlistOffer.expires_at))
    ).all()
    found = Expiry()
    for offer in due:
        event = found.events.get(offer.event_id) or _lock_event(session, offer.event_id)
        if event is None:
            continue
        found.events[offer.event_id] = event
        offer.status, offer.answered_at = WaitlistOfferStatus.EXPIRED, now
        session.add(offer)
        rsvp = session.get(Rsvp, offer.rsvp_id)
        if rsvp is not None and rsvp.answer == RsvpAnswer.WAITLISTED:
            rsvp.answer, rsvp.waitlisted_at = RsvpAnswer.NOT, None
            _save(session, rsvp, now)
        found.expired.append(offer)
    for event in list(found.events.values()):
        found.offers.extend(fill_free_places(session, event=event, now=now, offer_for=offer_for))
    return found


def withdraw_offers(session: Session, *, event_id: int, now: datetime) -> int:
    """Close every open offer of an event (it was cancelled)."""
    offers = session.exec(
        select(WaitlistOffer).where(
            WaitlistOffer.event_id == event_id, WaitlistOffer.status == WaitlistOfferStatus.OPEN
        )
    ).all()
    for offer in offers:
        offer.status, offer.answered_at = WaitlistOfferStatus.WITHDRAWN, now
        session.add(offer)
    return len(offers)


def offline_resident(session: Session, *, now: datetime, locale: str = "ja") -> Resident:
    """A resident without LINE, for 代理入力 by a 班長 or the staff web."""
    resident = Resident(line_user_id=None, locale=locale, created_at=now)
    session.add(resident)
    session.flush()
    return resident


def _close_offer(
    session: Session, *, rsvp_id: int, status: WaitlistOfferStatus, now: datetime
) -> None:
    offer = open_offer(session, rsvp_id=rsvp_id)
    if offer is not None:
        offer.status, offer.answered_at = status, now
        session.add(offer)


def _lock_event(session: Session, event_id: int) -> Event | None:
    """The event, locked so capacity decisions about it happen one at a time."""
    query = select(Event).where(Event.id == event_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    else:
        # pysqlite runs SELECTs outside a transaction until the first write; a no-op write
        # takes SQLite's write lock first, so two answers cannot both see the last place.
        session.execute(
            update(Event).where(col(Event.id) == event_id).values(revision=Event.revision)
        )
    return session.exec(query).first()


def _save(session: Session, rsvp: Rsvp, now: datetime) -> None:
    rsvp.updated_at = now
    session.add(rsvp)
    session.flush()


def set_needs(
    session: Session, *, event_id: int, resident_id: int, needs: str, now: datetime
) -> bool:
    """Note needs (wheelchair, sign language, allergies) on an answer; False when closed."""
    event = session.get(Event, event_id)
    found = find(session, event_id=event_id, resident_id=resident_id)
    if event is None or found is None or not is_open(event, now):
        return False
    found.needs = needs.strip()[:300]
    _save(session, found, now)
    return True
