"""Giving a shift back: a resident cancels their place, or an organiser cancels a whole slot.

A resident may always give back a place before the shift starts: the slot reopens and the
next best candidates are asked at once (volunteers.offer_slot), and the offer is recorded as
`cancelled`, which the tallies count. Inside `volunteer_late_cancel_hours` of the start it is
still allowed (nobody should feel trapped into a shift), but the organiser is told on LINE —
the resident who created the opportunity there, else the association's officers — without
the volunteer's name, only that a place reopened. An organiser cancelling a slot withdraws
every ask and place on it and tells those residents. Who must be told what comes back as
`Tell`s, which the caller pushes (messages.tell).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.core.models.membership import Officer
from bot.features.volunteers import tells as tells
from bot.features.volunteers import volunteers
from bot.features.volunteers.models import OfferStatus, Opportunity, Slot, VolunteerOffer
from bot.features.volunteers.tells import Tell
from bot.settings import Settings

LIVE_SLOT = ("open", "filled")


@dataclass(frozen=True)
class Cancellation:
    """What a resident's cancellation did, for the flow to word.

    status: cancelled | late (cancelled, organiser told) | started | stale
    """

    status: str
    slot: Slot | None = None
    opportunity: Opportunity | None = None
    # The organiser (when late) and the next candidates asked for the reopened place.
    tells: list[Tell] = field(default_factory=list)


def accepted_offer(
    session: Session, *, offer_id: int, resident_id: int
) -> tuple[VolunteerOffer, Slot, Opportunity] | None:
    """The resident's own accepted place on a live slot, or None (a stale button)."""
    offer = session.get(VolunteerOffer, offer_id)
    if offer is None or offer.resident_id != resident_id:
        return None
    session.refresh(offer)
    slot = session.get(Slot, offer.slot_id)
    opportunity = session.get(Opportunity, slot.opportunity_id) if slot else None
    if (
        slot is None
        or opportunity is None
        or offer.status != OfferStatus.ACCEPTED
        or slot.status not in LIVE_SLOT
    ):
        return None
    return offer, slot, opportunity


def is_late(slot: Slot, now: datetime, settings: Settings) -> bool:
    """True when the shift starts within the late-cancellation window."""
    return slot.starts_at - now < timedelta(hours=settings.volunteer_late_cancel_hours)


def cancel_place(
    session: Session,
    *,
    offer_id: int,
    resident_id: int,
    now: datetime,
    settings: Settings,
) -> Cancellation:
    """The resident gives back an accepted place; the next candidates are asked."""
    found = accepted_offer(session, offer_id=offer_id, resident_id=resident_id)
    if found is None:
        return Cancellation("stale")
    offer, slot, opportunity = found
    if slot.starts_at <= now:
        return Cancellation("started", slot, opportunity)
    if not volunteers.move_offer(session, offer, OfferStatus.ACCEPTED, OfferStatus.CANCELLED, now):
        return Cancellation("stale", slot, opportunity)
    volunteers.release_place(
        session, slot_id=int(slot.id or 0), profile_id=offer.profile_id, month=slot.month
    )
    session.refresh(slot)
    late = is_late(slot, now, settings)
    told = _tell_organiser(session, offer, slot, opportunity) if late else []
    told.extend(volunteers.offer_slot(session, int(slot.id or 0), now, settings=settings).tells)
    session.refresh(slot)
    return Cancellation("late" if late else "cancelled", slot, opportunity, told)


def organiser_recipients(session: Session, opportunity: Opportunity) -> list[int]:
    """Who hears of a late cancellation: the organiser on LINE, else the live officers."""
    if opportunity.organiser_resident_id is not None:
        return [opportunity.organiser_resident_id]
    if opportunity.association_id is None:
        return []
    return sorted(
        set(
            session.exec(
                select(Officer.resident_id).where(
                    Officer.association_id == opportunity.association_id,
                    col(Officer.revoked_at).is_(None),
                )
            ).all()
        )
    )


def _tell_organiser(
    session: Session, offer: VolunteerOffer, slot: Slot, opportunity: Opportunity
) -> list[Tell]:
    left = slot.needed - slot.filled
    return [
        Tell(
            tells.LATE_CANCEL,
            f"volunteer:late_cancel:{offer.id}:{resident_id}",
            resident_id,
            slot,
            opportunity,
            {"left": left},
        )
        for resident_id in organiser_recipients(session, opportunity)
    ]


def cancel_slot(session: Session, *, slot_id: int, now: datetime) -> list[Tell] | None:
    """The organiser calls a slot off: asks and places withdrawn.

    Returns those residents, to tell, or None when the slot was not live (already
    cancelled, done, or over).
    """
    slot = session.get(Slot, slot_id)
    if slot is None or slot.ends_at <= now:
        return None
    closed = session.execute(
        update(Slot)
        .where(col(Slot.id) == slot_id, col(Slot.status).in_(LIVE_SLOT))
        .values(status="cancelled")
    )
    if not closed.rowcount:  # type: ignore[attr-defined]  # an UPDATE returns a CursorResult, typed as Result
        return None
    session.refresh(slot)
    opportunity = session.get(Opportunity, slot.opportunity_id)
    assert opportunity is not None  # a foreign key
    told: list[Tell] = []
    for offer in volunteers.offers_of_slot(
        session, slot_id, (OfferStatus.OFFERED, OfferStatus.ACCEPTED)
    ):
        was = OfferStatus(offer.status)
        if not volunteers.move_offer(session, offer, was, OfferStatus.WITHDRAWN, now):
            continue
        if was == OfferStatus.ACCEPTED and offer.profile_id is not None:
            volunteers.release_month(session, profile_id=offer.profile_id, month=slot.month)
        told.append(
            Tell(
                tells.SLOT_CANCELLED,
                f"volunteer:slot_cancelled:{offer.id}",
                offer.resident_id,
                slot,
                opportunity,
            )
        )
    return told
