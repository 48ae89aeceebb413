"""The ranking on its own: who may be asked, and in what order (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.features.volunteers.matching import Candidate, SlotNeed, Weights, eligible, rank
from bot.features.volunteers.models import NEVER, Bucket, Reach

NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
NEED = SlotNeed(
    slot_id=1,
    interests=frozenset({"bousai"}),
    skills=frozenset({"first_aid"}),
    bucket="weekend_morning",
    month=202612,
    ward_id=1,
    district_id=10,
    association_id=100,
)
BASE = Candidate(
    profile_id=1,
    resident_id=1,
    interests=frozenset({"bousai"}),
    skills=frozenset(),
    availability=frozenset({"weekend_morning"}),
    reach=Reach.ASSOCIATION,
    ward_id=1,
    district_id=10,
    association_id=100,
    max_per_month=1,
    rest_since=NEVER,
)


def test_who_must_not_be_asked_is_dropped() -> None:
    dropped = {
        "paused": replace(BASE, paused=True),
        "asked already": replace(BASE, asked_for_slot=True),
        "not free then": replace(BASE, availability=frozenset({"weekday_evening"})),
        "other interests": replace(BASE, interests=frozenset({"kodomo"})),
        "at cap": replace(BASE, committed=1),
        "cap taken by a pending ask": replace(BASE, pending=1),
        "other association, own only": replace(BASE, association_id=101),
        "other district, reach district": replace(
            BASE, association_id=200, district_id=20, reach=Reach.DISTRICT
        ),
    }
    for why, who in dropped.items():
        assert not eligible(NEED, who), why
    assert eligible(NEED, BASE)
    assert eligible(NEED, replace(BASE, association_id=101, reach=Reach.DISTRICT))
    assert eligible(NEED, replace(BASE, association_id=200, district_id=20, reach=Reach.WARD))


def test_fairness_puts_the_rested_before_the_busy_even_if_less_skilled() -> None:
    busy_expert = replace(
        BASE,
        profile_id=1,
        skills=frozenset({"first_aid"}),
        max_per_month=4,
        committed=2,
        rest_since=NOW - timedelta(days=3),
    )
    newcomer = replace(BASE, profile_id=2, max_per_month=1)
    order = [r.candidate.profile_id for r in rank(NEED, [busy_expert, newcomer], Weights(), NOW)]
    assert order == [2, 1]


def test_fit_decides_between_equally_rested() -> None:
    skilled = replace(BASE, profile_id=2, skills=frozenset({"first_aid"}))
    district = replace(BASE, profile_id=3, association_id=101, reach=Reach.DISTRICT)
    order = [r.candidate.profile_id for r in rank(NEED, [district, BASE, skilled], Weights(), NOW)]
    assert order == [2, 1, 3]


def test_weights_come_from_settings_and_change_the_order() -> None:
    busy_expert = replace(
        BASE,
        profile_id=1,
        skills=frozenset({"first_aid"}),
        max_per_month=4,
        committed=2,
        rest_since=NOW - timedelta(days=3),
    )
    newcomer = replace(BASE, profile_id=2, max_per_month=1)
    skill_only = Weights(interest=0, skill=10, distance=0, rest=0, load=0)
    assert rank(NEED, [newcomer, busy_expert], skill_only, NOW)[0].candidate.profile_id == 1


candidates = st.builds(
    Candidate,
    profile_id=st.integers(1, 10_000),
    resident_id=st.integers(1, 10_000),
    interests=st.frozensets(st.sampled_from(["bousai", "kodomo", "seisou"]), max_size=3),
    skills=st.frozensets(st.sampled_from(["first_aid", "cooking"]), max_size=2),
    availability=st.frozensets(st.sampled_from([b.value for b in Bucket]), max_size=6),
    reach=st.sampled_from([r.value for r in Reach]),
    ward_id=st.sampled_from([1, 2]),
    district_id=st.sampled_from([10, 11, 20]),
    association_id=st.sampled_from([100, 101, 200]),
    max_per_month=st.integers(1, 4),
    rest_since=st.sampled_from([NEVER, NOW - timedelta(days=1), NOW - timedelta(days=90)]),
    committed=st.integers(0, 4),
    pending=st.integers(0, 2),
    paused=st.booleans(),
    asked_for_slot=st.booleans(),
)


@given(st.lists(candidates, max_size=40))
def test_ranked_are_all_eligible_and_ordered(pool: list[Candidate]) -> None:
    ranked = rank(NEED, pool, Weights(), NOW)
    for entry in ranked:
        who = entry.candidate
        assert not who.paused and not who.asked_for_slot
        assert NEED.bucket in who.availability and who.interests & NEED.interests
        assert who.committed + who.pending < who.max_per_month
    scores = [r.score for r in ranked]
    assert scores == sorted(scores, reverse=True)
    assert len(ranked) == sum(1 for c in pool if eligible(NEED, c))
