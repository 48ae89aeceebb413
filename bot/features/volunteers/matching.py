"""Who to ask for a slot: a narrow indexed candidate read, then a plain, documented ranking.

Two halves, kept apart so the ranking can be tested (and argued about) without a database:

* `find_candidates` reads at most `pool` profiles per (interest, area level) from
  `volunteer_match_key`, whose index is (tag, bucket, area_kind, area_id, rest_since): only
  active profiles interested in the slot's activity, free at that time of the week and willing
  to reach that far, those rested longest first. Its cost does not grow with the city.
* `rank` drops whoever must not be asked (paused, asked for this slot already, not free then,
  out of reach, at their own monthly cap) and orders the rest by `score`.

score = interest × (share of the activity's interests the resident named)
      + skill    × (share of the needed skills the resident has; 0 when none are needed)
      + distance × (1 own association, 0.5 own district, 0 elsewhere in the ward)
      + rest     × (days since last asked or served ÷ rest_full_days, at most 1)
      − load     × (shifts committed or asked this month ÷ their monthly cap)

The weights are settings (TSUNAGARI_VOLUNTEER_WEIGHT_*). Rest and load are the fairness terms:
with the defaults a resident who was never asked outranks a better-skilled one who served last
week, which is how the load spreads beyond the same few people (負担集中).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.features.volunteers.models import (
    OfferStatus,
    Reach,
    VolunteerMatchKey,
    VolunteerMonth,
    VolunteerOffer,
    VolunteerProfile,
)
from bot.settings import Settings


@dataclass(frozen=True)
class Weights:
    """The ranking's knobs (see the module docstring for what each multiplies)."""

    interest: float = 3.0
    skill: float = 2.0
    distance: float = 1.0
    rest: float = 4.0
    load: float = 3.0
    rest_full_days: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Weights:
        """The weights configured for this deployment."""
        return cls(
            interest=settings.volunteer_weight_interest,
            skill=settings.volunteer_weight_skill,
            distance=settings.volunteer_weight_distance,
            rest=settings.volunteer_weight_rest,
            load=settings.volunteer_weight_load,
            rest_full_days=settings.volunteer_rest_full_days,
        )


@dataclass(frozen=True)
class SlotNeed:
    """What a slot asks for, reduced to what matching compares."""

    slot_id: int
    interests: frozenset[str]
    skills: frozenset[str]
    bucket: str
    month: int
    ward_id: int
    district_id: int | None = None
    association_id: int | None = None


@dataclass(frozen=True)
class Candidate:
    """One resident's profile as matching sees it, with this month's load."""

    profile_id: int
    resident_id: int
    interests: frozenset[str]
    skills: frozenset[str]
    availability: frozenset[str]
    reach: str
    ward_id: int | None
    district_id: int | None
    association_id: int | None
    max_per_month: int
    rest_since: datetime
    committed: int = 0  # shifts accepted in the slot's month
    pending: int = 0  # asks still unanswered in the slot's month
    paused: bool = False
    asked_for_slot: bool = False


@dataclass(frozen=True)
class Ranked:
    """A candidate worth asking, with the score that placed them."""

    candidate: Candidate
    score: float


def distance(need: SlotNeed, who: Candidate) -> int | None:
    """0 own association, 1 own district, 2 own ward; None when beyond their chosen reach."""
    if need.association_id is not None and who.association_id == need.association_id:
        return 0
    wide = who.reach in (Reach.DISTRICT, Reach.WARD)
    if wide and need.district_id is not None and who.district_id == need.district_id:
        return 1
    if who.reach == Reach.WARD and who.ward_id == need.ward_id:
        return 2
    return None


def eligible(need: SlotNeed, who: Candidate) -> bool:
    """May this resident be asked for this slot at all?"""
    return (
        not who.paused
        and not who.asked_for_slot
        and need.bucket in who.availability
        and bool(need.interests & who.interests)
        and distance(need, who) is not None
        and who.committed + who.pending < who.max_per_month
    )


def score(need: SlotNeed, who: Candidate, weights: Weights, now: datetime) -> float:
    """How well and how fairly `who` fits `need` (higher asks first)."""
    interest = len(need.interests & who.interests) / len(need.interests) if need.interests else 0
    skill = len(need.skills & who.skills) / len(need.skills) if need.skills else 0.0
    near = 1.0 - (distance(need, who) or 0) / 2
    rested_days = max(0.0, (now - who.rest_since).total_seconds() / 86400)
    rest = min(1.0, rested_days / weights.rest_full_days)
    load = (who.committed + who.pending) / max(1, who.max_per_month)
    return (
        weights.interest * interest
        + weights.skill * skill
        + weights.distance * near
        + weights.rest * rest
        - weights.load * load
    )


def rank(
    need: SlotNeed, candidates: Iterable[Candidate], weights: Weights, now: datetime
) -> list[Ranked]:
    """Eligible candidates, best first; ties go to who rested longest, then the older profile."""
    ranked = [Ranked(c, score(need, c, weights, now)) for c in candidates if eligible(need, c)]
    ranked.sort(key=lambda r: (-r.score, r.candidate.rest_since, r.candidate.profile_id))
    return ranked


@dataclass
class _Loads:
    committed: dict[int, int] = field(default_factory=dict)
    pending: dict[int, int] = field(default_factory=dict)


def find_candidates(session: Session, need: SlotNeed, *, pool: int) -> list[Candidate]:
    """Profiles that could be asked for `need`, read through the match index, at most
    `pool` per (interest, area level); already-asked residents are flagged, not dropped."""
    ids = _candidate_ids(session, need, pool)
    if not ids:
        return []
    profiles = session.exec(select(VolunteerProfile).where(col(VolunteerProfile.id).in_(ids))).all()
    loads = _loads(session, ids, need.month)
    asked = set(
        session.exec(
            select(VolunteerOffer.resident_id).where(VolunteerOffer.slot_id == need.slot_id)
        ).all()
    )
    return [_candidate(p, loads, p.resident_id in asked) for p in profiles]


def _candidate_ids(session: Session, need: SlotNeed, pool: int) -> list[int]:
    areas = [
        (Reach.ASSOCIATION, need.association_id),
        (Reach.DISTRICT, need.district_id),
        (Reach.WARD, need.ward_id),
    ]
    found: dict[int, None] = {}
    for tag in sorted(need.interests):
        for kind, area_id in areas:
            if area_id is None:
                continue
            query = (
                select(VolunteerMatchKey.profile_id)
                .where(
                    VolunteerMatchKey.tag == tag,
                    VolunteerMatchKey.bucket == need.bucket,
                    VolunteerMatchKey.area_kind == kind,
                    VolunteerMatchKey.area_id == area_id,
                )
                .order_by(col(VolunteerMatchKey.rest_since))
                .limit(pool)
            )
            found.update(dict.fromkeys(session.exec(query).all()))
    return list(found)


def _loads(session: Session, profile_ids: Sequence[int], month: int) -> _Loads:
    loads = _Loads()
    months = session.exec(
        select(VolunteerMonth.profile_id, VolunteerMonth.committed).where(
            col(VolunteerMonth.profile_id).in_(profile_ids), VolunteerMonth.month == month
        )
    ).all()
    loads.committed = {int(pid): int(n) for pid, n in months}
    pending = session.exec(
        select(VolunteerOffer.profile_id, func.count())
        .where(
            col(VolunteerOffer.profile_id).in_(profile_ids),
            VolunteerOffer.month == month,
            VolunteerOffer.status == OfferStatus.OFFERED,
        )
        .group_by(col(VolunteerOffer.profile_id))
    ).all()
    loads.pending = {int(pid or 0): int(n) for pid, n in pending}
    return loads


def _candidate(profile: VolunteerProfile, loads: _Loads, asked: bool) -> Candidate:
    pid = int(profile.id or 0)
    return Candidate(
        profile_id=pid,
        resident_id=profile.resident_id,
        interests=frozenset(profile.interests),
        skills=frozenset(profile.skills),
        availability=frozenset(profile.availability),
        reach=profile.reach,
        ward_id=profile.ward_id,
        district_id=profile.district_id,
        association_id=profile.association_id,
        max_per_month=profile.max_per_month,
        rest_since=profile.rest_since,
        committed=loads.committed.get(pid, 0),
        pending=loads.pending.get(pid, 0),
        paused=profile.paused,
        asked_for_slot=asked,
    )
