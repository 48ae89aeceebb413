"""Volunteering's rules: profiles, opportunities and slots, asks, answers, sign-ups, expiry.

An open slot is offered to the best-ranked few (`volunteer_offers_per_place` per open place),
each ask waiting `volunteer_offer_hours`. Accepting fills the slot with conditional UPDATEs
(`filled < needed`, `committed < cap`, `status = 'offered'`) so concurrent accepts can never
over-fill a slot or push anyone past their own monthly cap, on SQLite and PostgreSQL alike.
A decline or a silent expiry asks the next; a slot that fills withdraws the asks still
pending. Nothing here words or pushes anything: what residents must be told comes back as
`Tell`s (tells.py), which the caller pushes (messages.tell).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from bot.core.memberships import current_membership
from bot.core.models.areas import Association, District
from bot.core.models.residents import ResidentInterest
from bot.features.volunteers import matching as matching
from bot.features.volunteers import tells as tells
from bot.features.volunteers.models import (
    Bucket,
    OfferStatus,
    Opportunity,
    Reach,
    Slot,
    VolunteerMatchKey,
    VolunteerMonth,
    VolunteerOffer,
    VolunteerProfile,
)
from bot.features.volunteers.tells import Tell
from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProfileInput:
    """What the profile conversation collects."""

    interests: Sequence[str]
    skills: Sequence[str]
    availability: Sequence[str]
    max_per_month: int
    reach: str


@dataclass(frozen=True)
class Answer:
    """The outcome of an accept, decline or sign-up, for the flow to word.

    status: accepted | declined | expired | full | over_cap | already | stale | no_profile
    """

    status: str
    slot: Slot | None = None
    opportunity: Opportunity | None = None
    cap: int = 0
    # Who must be told what because of it (the next asks, a filled slot's withdrawn asks).
    tells: tuple[Tell, ...] = ()


class Asked(list[VolunteerOffer]):
    """The asks made, in rank order, with `tells`: whom to push them to."""

    def __init__(self, offers: Iterable[VolunteerOffer] = ()) -> None:
        super().__init__(offers)
        self.tells: list[Tell] = []


@dataclass(frozen=True)
class Expired:
    """How many asks timed out, and the next asks made in their place."""

    expired: int
    tells: list[Tell] = field(default_factory=list)


# --- profiles -----------------------------------------------------------------------------


def get_profile(session: Session, resident_id: int) -> VolunteerProfile | None:
    """The resident's volunteer profile, if they made one."""
    query = select(VolunteerProfile).where(VolunteerProfile.resident_id == resident_id)
    return session.exec(query).first()


def save_profile(
    session: Session, resident_id: int, given: ProfileInput, now: datetime
) -> VolunteerProfile:
    """Create or replace the resident's profile; the area comes from their membership."""
    if given.reach not in set(Reach) or not 1 <= given.max_per_month <= 8:
        raise ValueError("reach or monthly cap out of range")
    if not set(given.availability) <= set(Bucket):
        raise ValueError("unknown availability bucket")
    profile = get_profile(session, resident_id) or VolunteerProfile(
        resident_id=resident_id, created_at=now
    )
    _sync_interest_tags(session, resident_id, profile.interests, given.interests)
    profile.interests, profile.skills = list(given.interests), list(given.skills)
    profile.availability = [b for b in Bucket if b in given.availability]
    profile.max_per_month, profile.reach, profile.updated_at = (
        given.max_per_month,
        given.reach,
        now,
    )
    _set_area(session, profile)
    session.add(profile)
    session.flush()
    refresh_match_keys(session, profile)
    return profile


def set_paused(
    session: Session, resident_id: int, paused: bool, now: datetime, *, settings: Settings
) -> list[Tell] | None:
    """Pause (no asks at all, pending asks withdrawn and asked of others) or resume; None
    without a profile, else whom to tell (the next asks)."""
    profile = get_profile(session, resident_id)
    if profile is None:
        return None
    profile.paused, profile.updated_at = paused, now
    session.add(profile)
    session.flush()
    refresh_match_keys(session, profile)
    told: list[Tell] = []
    if paused:
        for offer in _pending_offers_of(session, resident_id):
            if _move(session, offer, OfferStatus.OFFERED, OfferStatus.WITHDRAWN, now):
                _offer_slot(session, offer.slot_id, now, settings, told)
    return told


def forget(session: Session, resident_id: int, now: datetime) -> None:
    """Erasure: blank what the profile says about the person; shifts and counts stay."""
    profile = get_profile(session, resident_id)
    if profile is None:
        return
    for offer in _pending_offers_of(session, resident_id):
        _move(session, offer, OfferStatus.OFFERED, OfferStatus.WITHDRAWN, now)
    profile.interests, profile.skills, profile.availability = [], [], []
    profile.paused, profile.updated_at = True, now
    session.add(profile)
    session.flush()
    refresh_match_keys(session, profile)


def on_membership_changed(session: Session, resident_id: int, now: datetime) -> None:
    """Subscriber of `membership_changed` (bot/core/hooks.py): the match keys follow a join,
    move or leave."""
    refresh_area(session, resident_id)


def refresh_area(session: Session, resident_id: int) -> None:
    """Re-read the resident's association after a join, move or leave."""
    profile = get_profile(session, resident_id)
    if profile is not None:
        _set_area(session, profile)
        session.add(profile)
        session.flush()
        refresh_match_keys(session, profile)


def refresh_match_keys(session: Session, profile: VolunteerProfile) -> None:
    """Rewrite the profile's rows in the match index (none while paused or without an area)."""
    session.execute(
        delete(VolunteerMatchKey).where(col(VolunteerMatchKey.profile_id) == profile.id)
    )
    area_id = {
        Reach.ASSOCIATION: profile.association_id,
        Reach.DISTRICT: profile.district_id,
        Reach.WARD: profile.ward_id,
    }.get(Reach(profile.reach))
    if profile.paused or area_id is None:
        return
    rows = [
        {
            "profile_id": profile.id,
            "tag": tag,
            "bucket": bucket,
            "area_kind": profile.reach,
            "area_id": area_id,
            "rest_since": profile.rest_since,
        }
        for tag in profile.interests
        for bucket in profile.availability
    ]
    if rows:
        session.execute(insert(VolunteerMatchKey), rows)


def _set_area(session: Session, profile: VolunteerProfile) -> None:
    membership = current_membership(session, profile.resident_id)
    association = session.get(Association, membership.association_id) if membership else None
    district = session.get(District, association.district_id) if association else None
    profile.association_id = association.id if association else None
    profile.district_id = district.id if district else None
    profile.ward_id = district.ward_id if district else None


def _sync_interest_tags(
    session: Session, resident_id: int, old: Iterable[str], new: Iterable[str]
) -> None:
    """Keep resident_interest (used to target notices) in step with the profile's interests."""
    old_set, new_set = set(old), set(new)
    if old_set - new_set:
        session.execute(
            delete(ResidentInterest).where(
                col(ResidentInterest.resident_id) == resident_id,
                col(ResidentInterest.tag).in_(old_set - new_set),
            )
        )
    have = set(
        session.exec(
            select(ResidentInterest.tag).where(ResidentInterest.resident_id == resident_id)
        ).all()
    )
    for tag in sorted(new_set - have):
        session.add(ResidentInterest(resident_id=resident_id, tag=tag))


def _rested(session: Session, profile_id: int | None, now: datetime) -> None:
    """Asked or served just now: to the back of the fairness queue."""
    session.execute(
        update(VolunteerProfile)
        .where(col(VolunteerProfile.id) == profile_id)
        .values(rest_since=now)
    )
    session.execute(
        update(VolunteerMatchKey)
        .where(col(VolunteerMatchKey.profile_id) == profile_id)
        .values(rest_since=now)
    )


# --- opportunities and slots --------------------------------------------------------------


def create_opportunity(
    session: Session,
    *,
    role: str,
    interests: Sequence[str],
    now: datetime,
    description: str = "",
    needed_skills: Sequence[str] = (),
    association_id: int | None = None,
    district_id: int | None = None,
    ward_id: int | None = None,
    event_id: int | None = None,
    organiser_staff_id: int | None = None,
    organiser_resident_id: int | None = None,
) -> Opportunity:
    """An organiser's call for hands in an association (or a whole district or ward)."""
    if not interests:
        raise ValueError("an opportunity needs at least one interest tag to match on")
    if association_id is not None:
        association = session.get(Association, association_id)
        if association is None:
            raise ValueError("unknown association")
        district_id = association.district_id
    if district_id is not None:
        district = session.get(District, district_id)
        if district is None:
            raise ValueError("unknown district")
        ward_id = district.ward_id
    if ward_id is None:
        raise ValueError("an opportunity needs an association, district or ward")
    opportunity = Opportunity(
        role=role,
        description=description,
        interests=list(interests),
        needed_skills=list(needed_skills),
        event_id=event_id,
        association_id=association_id,
        district_id=district_id,
        ward_id=ward_id,
        organiser_staff_id=organiser_staff_id,
        organiser_resident_id=organiser_resident_id,
        created_at=now,
    )
    session.add(opportunity)
    session.flush()
    return opportunity


def add_slot(
    session: Session,
    *,
    opportunity_id: int,
    starts_at: datetime,
    ends_at: datetime,
    needed: int,
    place: str = "",
    tz: ZoneInfo,
) -> Slot:
    """A shift of an opportunity; its time bucket and month are read in the city's zone."""
    if needed < 1 or ends_at <= starts_at:
        raise ValueError("a slot needs at least one person and must end after it starts")
    local = starts_at.astimezone(tz)
    slot = Slot(
        opportunity_id=opportunity_id,
        starts_at=starts_at,
        ends_at=ends_at,
        place=place,
        needed=needed,
        bucket=bucket_of(local),
        month=local.year * 100 + local.month,
        created_at=starts_at,
    )
    session.add(slot)
    session.flush()
    return slot


def bucket_of(local: datetime) -> str:
    """weekday/weekend × morning (before 12) / afternoon (before 17) / evening, local time."""
    day = "weekend" if local.weekday() >= 5 else "weekday"
    part = "morning" if local.hour < 12 else "afternoon" if local.hour < 17 else "evening"
    return f"{day}_{part}"


def need_of(slot: Slot, opportunity: Opportunity) -> matching.SlotNeed:
    """What matching compares for this slot."""
    return matching.SlotNeed(
        slot_id=int(slot.id or 0),
        interests=frozenset(opportunity.interests),
        skills=frozenset(opportunity.needed_skills),
        bucket=slot.bucket,
        month=slot.month,
        ward_id=opportunity.ward_id,
        district_id=opportunity.district_id,
        association_id=opportunity.association_id,
    )


# --- asking -------------------------------------------------------------------------------


def offer_slot(session: Session, slot_id: int, now: datetime, *, settings: Settings) -> Asked:
    """Ask the best-ranked residents for the slot's open places; the new asks, to push."""
    asked = Asked()
    asked.extend(_offer_slot(session, slot_id, now, settings, asked.tells))
    return asked


def _offer_slot(
    session: Session, slot_id: int, now: datetime, settings: Settings, told: list[Tell]
) -> list[VolunteerOffer]:
    """`offer_slot`, adding the asks to `told`."""
    slot = session.get(Slot, slot_id)
    if slot is None or slot.status != "open" or slot.starts_at <= now:
        return []
    session.refresh(slot)  # `filled` moves under conditional UPDATEs
    opportunity = session.get(Opportunity, slot.opportunity_id)
    if opportunity is None or opportunity.status != "open":
        return []
    pending = len(_offers_of_slot(session, slot_id, OfferStatus.OFFERED))
    wanted = (slot.needed - slot.filled) * settings.volunteer_offers_per_place - pending
    if wanted <= 0:
        return []
    need = need_of(slot, opportunity)
    found = matching.find_candidates(session, need, pool=settings.volunteer_candidate_pool)
    ranked = matching.rank(need, found, matching.Weights.from_settings(settings), now)
    expires = min(now + timedelta(hours=settings.volunteer_offer_hours), slot.starts_at)
    made = [_ask(session, slot, r, expires, now) for r in ranked[:wanted]]
    answer_hours = (expires - now).total_seconds() / 3600
    for offer in made:
        told.append(
            Tell(
                tells.OFFER,
                f"volunteer:offer:{offer.id}",
                offer.resident_id,
                slot,
                opportunity,
                {"offer_id": int(offer.id or 0), "answer_hours": answer_hours},
            )
        )
    log.info(
        "volunteer offers",
        extra={"slot_id": slot_id, "offers": len(made), "candidates": len(found)},
    )
    return made


def _ask(
    session: Session, slot: Slot, ranked: matching.Ranked, expires: datetime, now: datetime
) -> VolunteerOffer:
    who = ranked.candidate
    offer = VolunteerOffer(
        slot_id=int(slot.id or 0),
        resident_id=who.resident_id,
        profile_id=who.profile_id,
        month=slot.month,
        score=ranked.score,
        offered_at=now,
        expires_at=expires,
    )
    session.add(offer)
    session.flush()
    _rested(session, who.profile_id, now)
    return offer


def match_open_slots(
    session: Session, now: datetime, *, settings: Settings, limit: int = 200
) -> Asked:
    """Top up asks for open slots that start in the future (scheduler)."""
    query = (
        select(Slot.id)
        .where(Slot.status == "open", col(Slot.starts_at) > now)
        .order_by(col(Slot.starts_at))
        .limit(limit)
    )
    asked = Asked()
    for sid in session.exec(query).all():
        asked.extend(_offer_slot(session, int(sid or 0), now, settings, asked.tells))
    return asked


def expire_offers(session: Session, now: datetime, *, settings: Settings) -> Expired:
    """Asks left unanswered past their time become expired and the next are asked."""
    due = session.exec(
        select(VolunteerOffer)
        .where(VolunteerOffer.status == OfferStatus.OFFERED, col(VolunteerOffer.expires_at) <= now)
        .limit(1000)
    ).all()
    expired = [o for o in due if _move(session, o, OfferStatus.OFFERED, OfferStatus.EXPIRED, now)]
    told: list[Tell] = []
    for slot_id in sorted({o.slot_id for o in expired}):
        _offer_slot(session, slot_id, now, settings, told)
    return Expired(len(expired), told)


# --- answering ----------------------------------------------------------------------------


def respond(
    session: Session,
    *,
    offer_id: int,
    resident_id: int,
    accept: bool,
    now: datetime,
    settings: Settings,
) -> Answer:
    """A resident's 引き受ける / 見送る on an ask."""
    offer = session.get(VolunteerOffer, offer_id)
    if offer is None or offer.resident_id != resident_id:
        return Answer("stale")
    slot, opportunity = _slot_and_opportunity(session, offer.slot_id)
    told: list[Tell] = []
    answer = _answer_closed(offer, slot, opportunity, now)
    if answer is not None:
        if answer.status == "expired" and offer.status == OfferStatus.OFFERED:
            if _move(session, offer, OfferStatus.OFFERED, OfferStatus.EXPIRED, now):
                _offer_slot(session, offer.slot_id, now, settings, told)
        return replace(answer, tells=tuple(told))
    if not accept:
        if _move(session, offer, OfferStatus.OFFERED, OfferStatus.DECLINED, now):
            _offer_slot(session, offer.slot_id, now, settings, told)
        return Answer("declined", slot, opportunity, tells=tuple(told))
    return _take(session, slot, opportunity, offer, offer.profile_id, now)


def _answer_closed(
    offer: VolunteerOffer, slot: Slot, opportunity: Opportunity, now: datetime
) -> Answer | None:
    if offer.status == OfferStatus.ACCEPTED:
        return Answer("already", slot, opportunity)
    if offer.status == OfferStatus.WITHDRAWN:
        return Answer("full", slot, opportunity)
    if offer.status != OfferStatus.OFFERED:
        return Answer(
            "expired" if offer.status == OfferStatus.EXPIRED else "stale", slot, opportunity
        )
    if offer.expires_at <= now:
        return Answer("expired", slot, opportunity)
    return None


def sign_up(
    session: Session,
    *,
    slot_id: int,
    resident_id: int,
    now: datetime,
    settings: Settings,
) -> Answer:
    """A resident takes a place they found by browsing, within their own monthly cap."""
    slot, opportunity = _slot_and_opportunity(session, slot_id)
    profile = get_profile(session, resident_id)
    if profile is None:
        return Answer("no_profile", slot, opportunity)
    if slot.status != "open" or slot.starts_at <= now:
        return Answer("full", slot, opportunity)
    offer = session.exec(
        select(VolunteerOffer).where(
            VolunteerOffer.slot_id == slot_id, VolunteerOffer.resident_id == resident_id
        )
    ).first()
    if offer is not None and offer.status == OfferStatus.ACCEPTED:
        return Answer("already", slot, opportunity)
    opened = offer is None or offer.status != OfferStatus.OFFERED
    if offer is None:
        offer = VolunteerOffer(
            slot_id=slot_id,
            resident_id=resident_id,
            profile_id=profile.id,
            month=slot.month,
            source="signup",
            offered_at=now,
            expires_at=slot.starts_at,
        )
        session.add(offer)
        session.flush()
    elif opened and not _reopen(session, offer, slot, now):
        return Answer("already", slot, opportunity)
    answer = _take(session, slot, opportunity, offer, profile.id, now)
    if opened and answer.status != "accepted":
        # Close only the ask this sign-up opened, and only if nobody accepted it meanwhile.
        _move(session, offer, OfferStatus.OFFERED, OfferStatus.WITHDRAWN, now)
    return answer


def _reopen(session: Session, offer: VolunteerOffer, slot: Slot, now: datetime) -> bool:
    """A past ask (declined, expired, withdrawn) becomes this sign-up, if still as read."""
    reopened = session.execute(
        update(VolunteerOffer)
        .where(col(VolunteerOffer.id) == offer.id, col(VolunteerOffer.status) == offer.status)
        .values(status=OfferStatus.OFFERED, source="signup", expires_at=slot.starts_at)
    )
    session.refresh(offer)
    return bool(reopened.rowcount)  # type: ignore[attr-defined]  # an UPDATE returns a CursorResult, typed as Result


def _take(
    session: Session,
    slot: Slot,
    opportunity: Opportunity,
    offer: VolunteerOffer,
    profile_id: int | None,
    now: datetime,
) -> Answer:
    """Month cap, then a place, then the ask itself: each a conditional UPDATE, undone in
    reverse when a later one finds nothing to take (all in the caller's transaction)."""
    profile = session.get(VolunteerProfile, profile_id) if profile_id else None
    if profile is None:
        return Answer("no_profile", slot, opportunity)
    if not _take_month(session, int(profile.id or 0), slot.month, profile.max_per_month):
        return Answer("over_cap", slot, opportunity, cap=profile.max_per_month)
    if not _take_place(session, int(slot.id or 0)):
        _give_back_month(session, int(profile.id or 0), slot.month)
        return Answer("full", slot, opportunity)
    if not _move(session, offer, OfferStatus.OFFERED, OfferStatus.ACCEPTED, now, unexpired=True):
        _give_back_place(session, int(slot.id or 0))
        _give_back_month(session, int(profile.id or 0), slot.month)
        session.refresh(offer)  # someone else answered it first (a double tap, a sign-up)
        taken = offer.status == OfferStatus.ACCEPTED
        return Answer("already" if taken else "expired", slot, opportunity)
    _rested(session, profile.id, now)
    session.refresh(slot)
    told: list[Tell] = []
    if slot.filled >= slot.needed:
        _close_filled(session, slot, opportunity, now, told)
    return Answer("accepted", slot, opportunity, tells=tuple(told))


def _take_month(session: Session, profile_id: int, month: int, cap: int) -> bool:
    values = {"profile_id": profile_id, "month": month, "committed": 0}
    if session.get_bind().dialect.name == "postgresql":
        stmt: Any = postgresql.insert(VolunteerMonth).values(values).on_conflict_do_nothing()
    else:
        stmt = sqlite.insert(VolunteerMonth).values(values).on_conflict_do_nothing()
    session.execute(stmt)
    taken = session.execute(
        update(VolunteerMonth)
        .where(
            col(VolunteerMonth.profile_id) == profile_id,
            col(VolunteerMonth.month) == month,
            col(VolunteerMonth.committed) < cap,
        )
        .values(committed=VolunteerMonth.committed + 1)
    )
    return bool(taken.rowcount)  # type: ignore[attr-defined]  # an UPDATE returns a CursorResult, typed as Result


def _give_back_month(session: Session, profile_id: int, month: int) -> None:
    session.execute(
        update(VolunteerMonth)
        .where(col(VolunteerMonth.profile_id) == profile_id, col(VolunteerMonth.month) == month)
        .values(committed=VolunteerMonth.committed - 1)
    )


def _take_place(session: Session, slot_id: int) -> bool:
    taken = session.execute(
        update(Slot)
        .where(
            col(Slot.id) == slot_id, col(Slot.filled) < col(Slot.needed), col(Slot.status) == "open"
        )
        .values(filled=Slot.filled + 1)
    )
    return bool(taken.rowcount)  # type: ignore[attr-defined]  # an UPDATE returns a CursorResult, typed as Result


def _give_back_place(session: Session, slot_id: int) -> None:
    session.execute(update(Slot).where(col(Slot.id) == slot_id).values(filled=Slot.filled - 1))


def release_place(session: Session, *, slot_id: int, profile_id: int | None, month: int) -> None:
    """An accepted place given back: the slot has room again (and reopens if it was full),
    and the month's commitment no longer counts against the resident's cap."""
    session.execute(
        update(Slot)
        .where(col(Slot.id) == slot_id, col(Slot.filled) > 0)
        .values(filled=Slot.filled - 1)
    )
    session.execute(
        update(Slot)
        .where(col(Slot.id) == slot_id, col(Slot.status) == "filled")
        .values(status="open")
    )
    if profile_id is not None:
        release_month(session, profile_id=profile_id, month=month)


def release_month(session: Session, *, profile_id: int, month: int) -> None:
    """A shift no longer counts against the resident's monthly cap (never below zero)."""
    session.execute(
        update(VolunteerMonth)
        .where(
            col(VolunteerMonth.profile_id) == profile_id,
            col(VolunteerMonth.month) == month,
            col(VolunteerMonth.committed) > 0,
        )
        .values(committed=VolunteerMonth.committed - 1)
    )


def move_offer(
    session: Session, offer: VolunteerOffer, old: OfferStatus, new: OfferStatus, now: datetime
) -> bool:
    """Change an ask's status only if nobody else changed it first (for sibling services)."""
    return _move(session, offer, old, new, now)


def offers_of_slot(
    session: Session, slot_id: int, statuses: Sequence[OfferStatus]
) -> list[VolunteerOffer]:
    """The slot's asks in any of `statuses`, oldest first."""
    return list(
        session.exec(
            select(VolunteerOffer)
            .where(
                VolunteerOffer.slot_id == slot_id, col(VolunteerOffer.status).in_(list(statuses))
            )
            .order_by(col(VolunteerOffer.id))
        ).all()
    )


def _move(
    session: Session,
    offer: VolunteerOffer,
    old: OfferStatus,
    new: OfferStatus,
    now: datetime,
    unexpired: bool = False,
) -> bool:
    """Change an ask's status only if nobody else changed it first."""
    stmt = update(VolunteerOffer).where(
        col(VolunteerOffer.id) == offer.id, col(VolunteerOffer.status) == old
    )
    if unexpired:
        stmt = stmt.where(col(VolunteerOffer.expires_at) > now)
    moved = bool(session.execute(stmt.values(status=new, answered_at=now)).rowcount)  # type: ignore[attr-defined]  # an UPDATE returns a CursorResult, typed as Result
    if moved:
        session.refresh(offer)
    return moved


def _close_filled(
    session: Session, slot: Slot, opportunity: Opportunity, now: datetime, told: list[Tell]
) -> None:
    """The last place went: mark the slot filled, withdraw pending asks, tell those asked."""
    closed = session.execute(
        update(Slot)
        .where(col(Slot.id) == slot.id, col(Slot.status) == "open")
        .values(status="filled")
    )
    if not closed.rowcount:  # type: ignore[attr-defined]  # an UPDATE returns a CursorResult, typed as Result
        return
    for offer in _offers_of_slot(session, int(slot.id or 0), OfferStatus.OFFERED):
        if _move(session, offer, OfferStatus.OFFERED, OfferStatus.WITHDRAWN, now):
            told.append(
                Tell(
                    tells.FILLED,
                    f"volunteer:filled:{offer.id}",
                    offer.resident_id,
                    slot,
                    opportunity,
                )
            )
    session.refresh(slot)


# --- reading ------------------------------------------------------------------------------


def browse(
    session: Session, resident_id: int, now: datetime, limit: int = 5
) -> list[tuple[Slot, Opportunity]]:
    """Open slots within the resident's reach and free times, most fitting interests first."""
    profile = get_profile(session, resident_id)
    if profile is None or profile.ward_id is None:
        return []
    asked = set(
        session.exec(
            select(VolunteerOffer.slot_id).where(
                VolunteerOffer.resident_id == resident_id,
                col(VolunteerOffer.status).in_([OfferStatus.ACCEPTED]),
            )
        ).all()
    )
    query = (
        select(Slot, Opportunity)
        .join(Opportunity, col(Opportunity.id) == Slot.opportunity_id)
        .where(
            Slot.status == "open",
            col(Slot.starts_at) > now,
            Opportunity.status == "open",
            Opportunity.ward_id == profile.ward_id,
            col(Slot.bucket).in_(profile.availability or ["-"]),
        )
        .order_by(col(Slot.starts_at))
        .limit(200)
    )
    rows = [(s, o) for s, o in session.exec(query).all() if s.id not in asked]
    wants = set(profile.interests)
    fitting = [(s, o) for s, o in rows if _reachable(profile, o)]
    fitting.sort(key=lambda so: (-len(wants & set(so[1].interests)), so[0].starts_at))
    return fitting[:limit]


def _reachable(profile: VolunteerProfile, opportunity: Opportunity) -> bool:
    if opportunity.association_id is not None and (
        opportunity.association_id == profile.association_id
    ):
        return True
    if profile.reach == Reach.ASSOCIATION:
        return False
    if profile.reach == Reach.DISTRICT:
        return opportunity.district_id is not None and (
            opportunity.district_id == profile.district_id
        )
    return opportunity.ward_id == profile.ward_id


def commitments(
    session: Session, resident_id: int, now: datetime
) -> list[tuple[VolunteerOffer, Slot, Opportunity]]:
    """The resident's accepted shifts still to come, with the accepted ask (to cancel by)."""
    query = (
        select(VolunteerOffer, Slot, Opportunity)
        .join(VolunteerOffer, col(VolunteerOffer.slot_id) == Slot.id)
        .join(Opportunity, col(Opportunity.id) == Slot.opportunity_id)
        .where(
            VolunteerOffer.resident_id == resident_id,
            VolunteerOffer.status == OfferStatus.ACCEPTED,
            col(Slot.ends_at) > now,
            col(Slot.status).in_(["open", "filled"]),
        )
        .order_by(col(Slot.starts_at))
    )
    return [(v, s, o) for v, s, o in session.exec(query).all()]


def _slot_and_opportunity(session: Session, slot_id: int) -> tuple[Slot, Opportunity]:
    slot = session.get(Slot, slot_id)
    if slot is None:
        raise ValueError("unknown slot")
    session.refresh(slot)
    opportunity = session.get(Opportunity, slot.opportunity_id)
    assert opportunity is not None  # a foreign key
    return slot, opportunity


def _offers_of_slot(session: Session, slot_id: int, status: OfferStatus) -> list[VolunteerOffer]:
    return list(
        session.exec(
            select(VolunteerOffer).where(
                VolunteerOffer.slot_id == slot_id, VolunteerOffer.status == status
            )
        ).all()
    )


def _pending_offers_of(session: Session, resident_id: int) -> list[VolunteerOffer]:
    return list(
        session.exec(
            select(VolunteerOffer).where(
                VolunteerOffer.resident_id == resident_id,
                VolunteerOffer.status == OfferStatus.OFFERED,
            )
        ).all()
    )


def month_of(moment: datetime, tz: ZoneInfo) -> int:
    """yyyymm of a UTC moment in the city's time zone."""
    local = moment.astimezone(tz)
    return local.year * 100 + local.month
