"""Generated residents and slots, asked by the matcher and answered from many threads at once:
nobody is asked or placed beyond their own monthly cap, no slot is ever over-filled."""

from __future__ import annotations

import itertools
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from bot.core.models.areas import Association, District, Ward
from bot.db import session_scope
from bot.features.volunteers import volunteers
from bot.features.volunteers.models import (
    Bucket,
    OfferStatus,
    Slot,
    VolunteerMonth,
    VolunteerOffer,
    VolunteerProfile,
)
from tests.builders import T0, add_member
from tests.features.volunteers.support import SAT_MORNING, add_slot, settings_for

_areas = itertools.count()
TAGS = ["bousai", "kodomo", "seisou"]
# Slot start times covering weekday/weekend × morning/afternoon/evening, all in December.
STARTS = [SAT_MORNING + timedelta(days=d, hours=h) for d in (0, 2) for h in (0, 5, 10)]

residents = st.lists(
    st.fixed_dictionaries(
        {
            "cap": st.integers(1, 3),
            "times": st.frozensets(st.sampled_from([b.value for b in Bucket]), min_size=1),
            "interests": st.frozensets(st.sampled_from(TAGS), min_size=1),
        }
    ),
    min_size=3,
    max_size=18,
)
slots = st.lists(
    st.fixed_dictionaries(
        {
            "needed": st.integers(1, 3),
            "start": st.sampled_from(STARTS),
            "interests": st.frozensets(st.sampled_from(TAGS), min_size=1),
        }
    ),
    min_size=1,
    max_size=5,
)


def _fresh_association(engine: Any) -> int:
    """Each generated example gets its own ward, so examples never see each other's rows."""
    n = next(_areas)
    with session_scope(engine) as session:
        ward = Ward(code=f"CW{n}", name=f"区{n}")
        session.add(ward)
        session.flush()
        district = District(code=f"CD{n}", ward_id=int(ward.id or 0), name=f"地区{n}")
        session.add(district)
        session.flush()
        association = Association(
            code=f"CA{n}", district_id=int(district.id or 0), name=f"町内会{n}"
        )
        session.add(association)
        session.flush()
        return int(association.id or 0)


def _answer(engine: Any, cfg: Any, job: tuple[str, int, int]) -> str:
    kind, target, resident_id = job
    with session_scope(engine) as session:
        if kind == "accept":
            return volunteers.respond(
                session, offer_id=target, resident_id=resident_id, accept=True, now=T0, settings=cfg
            ).status
        return volunteers.sign_up(
            session, slot_id=target, resident_id=resident_id, now=T0, settings=cfg
        ).status


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=residents, wanted=slots)
def test_no_cap_exceeded_and_no_slot_overfilled_under_concurrent_accepts(
    engine: Any, db_url: str, people: list[dict[str, Any]], wanted: list[dict[str, Any]]
) -> None:
    cfg = settings_for(db_url, volunteer_offers_per_place=3)
    assoc = _fresh_association(engine)
    ids = []
    for n, person in enumerate(people):
        rid = add_member(engine, assoc, f"c{assoc}-{n}")
        with session_scope(engine) as session:
            volunteers.save_profile(
                session,
                rid,
                volunteers.ProfileInput(
                    interests=sorted(person["interests"]),
                    skills=[],
                    availability=sorted(person["times"]),
                    max_per_month=person["cap"],
                    reach="association",
                ),
                T0,
            )
        ids.append(rid)
    slot_ids = [
        add_slot(
            engine,
            assoc,
            needed=w["needed"],
            starts_at=w["start"],
            interests=sorted(w["interests"]),
            settings=cfg,
        )
        for w in wanted
    ]
    for slot_id in slot_ids:
        with session_scope(engine) as session:
            volunteers.offer_slot(session, slot_id, T0, settings=cfg)

    with Session(engine) as session:
        asked = session.exec(
            select(VolunteerOffer).where(col(VolunteerOffer.slot_id).in_(slot_ids))
        ).all()
        profiles = {
            p.resident_id: p
            for p in session.exec(
                select(VolunteerProfile).where(col(VolunteerProfile.resident_id).in_(ids))
            )
        }
        buckets = {
            s.id: s.bucket for s in session.exec(select(Slot).where(col(Slot.id).in_(slot_ids)))
        }
    # Asked only when free then, and never more often than their own cap.
    for offer in asked:
        assert buckets[offer.slot_id] in profiles[offer.resident_id].availability
    for rid, n in Counter(o.resident_id for o in asked).items():
        assert n <= profiles[rid].max_per_month

    # Everyone asked says yes at once, while everyone else tries to sign up for every slot.
    jobs = [("accept", int(o.id or 0), o.resident_id) for o in asked]
    jobs += [("signup", s, rid) for s in slot_ids for rid in ids[:6]]
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda job: _answer(engine, cfg, job), jobs))
    assert set(outcomes) <= {"accepted", "full", "over_cap", "already", "expired"}

    with Session(engine) as session:
        placed = session.exec(
            select(VolunteerOffer).where(
                col(VolunteerOffer.slot_id).in_(slot_ids),
                VolunteerOffer.status == OfferStatus.ACCEPTED,
            )
        ).all()
        filled = {
            s.id: (s.filled, s.needed)
            for s in session.exec(select(Slot).where(col(Slot.id).in_(slot_ids)))
        }
        months = {
            m.profile_id: m.committed
            for m in session.exec(
                select(VolunteerMonth).where(
                    col(VolunteerMonth.profile_id).in_([p.id for p in profiles.values()])
                )
            )
        }
    per_slot = Counter(o.slot_id for o in placed)
    for slot_id, (count, needed) in filled.items():
        assert count == per_slot[slot_id] <= needed
    per_person = Counter(o.resident_id for o in placed)
    for rid, profile in profiles.items():
        assert per_person[rid] == months.get(profile.id, 0) <= profile.max_per_month
    assert outcomes.count("accepted") == len(placed)
