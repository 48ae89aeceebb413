"""Volunteering's rules against the database: asks, answers, expiry, sign-up, shifts, tallies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from bot.db import session_scope
from bot.features.volunteers import shifts as volunteer_shifts
from bot.features.volunteers import tallies as volunteer_tallies
from bot.features.volunteers import volunteers
from bot.features.volunteers.models import (
    Shift,
    Slot,
    VolunteerMatchKey,
    VolunteerOffer,
    VolunteerProfile,
)
from tests.builders import T0, make_area
from tests.features.volunteers.support import (
    SAT_MORNING,
    add_slot,
    add_volunteer,
    push_tells,
    pushed_texts,
    settings_for,
)


def _offers(engine: Any, slot_id: int) -> dict[int, str]:
    with Session(engine) as session:
        rows = session.exec(select(VolunteerOffer).where(VolunteerOffer.slot_id == slot_id))
        return {o.resident_id: o.status for o in rows}


def _offer_id(engine: Any, slot_id: int, resident_id: int) -> int:
    with Session(engine) as session:
        offer = session.exec(
            select(VolunteerOffer).where(
                VolunteerOffer.slot_id == slot_id, VolunteerOffer.resident_id == resident_id
            )
        ).one()
        return int(offer.id or 0)


def test_offer_decline_next_accept_then_others_told_filled(engine: Any, db_url: str) -> None:
    settings = settings_for(db_url)
    (assoc, _) = make_area(engine)
    a, b, c, d = (add_volunteer(engine, assoc, n) for n in "abcd")
    slot_id = add_slot(engine, assoc, needed=1, settings=settings)

    with session_scope(engine) as session:
        made = volunteers.offer_slot(session, slot_id, T0, settings=settings)
        push_tells(session, T0, made.tells, settings)
    assert [o.resident_id for o in made] == [a, b]  # two asks per open place, oldest first
    assert any("お手伝いをお願いできませんか" in t for t in pushed_texts(engine, a))

    with session_scope(engine) as session:
        answer = volunteers.respond(
            session,
            offer_id=_offer_id(engine, slot_id, b),
            resident_id=b,
            accept=False,
            now=T0,
            settings=settings,
        )
        push_tells(session, T0, answer.tells, settings)
    assert answer.status == "declined"
    assert _offers(engine, slot_id) == {a: "offered", b: "declined", c: "offered"}

    with session_scope(engine) as session:
        answer = volunteers.respond(
            session,
            offer_id=_offer_id(engine, slot_id, c),
            resident_id=c,
            accept=True,
            now=T0,
            settings=settings,
        )
        push_tells(session, T0, answer.tells, settings)
    assert answer.status == "accepted"
    assert _offers(engine, slot_id) == {a: "withdrawn", b: "declined", c: "accepted"}
    assert any("人数がそろいました" in t for t in pushed_texts(engine, a, "volunteer_filled"))
    assert not pushed_texts(engine, b, "volunteer_filled")
    assert not pushed_texts(engine, d)  # never asked
    with Session(engine) as session:
        slot = session.get(Slot, slot_id)
        assert slot is not None and (slot.filled, slot.status) == (1, "filled")

    with session_scope(engine) as session:  # a's late tap: the slot is full
        late = volunteers.respond(
            session,
            offer_id=_offer_id(engine, slot_id, a),
            resident_id=a,
            accept=True,
            now=T0,
            settings=settings,
        )
    assert late.status == "full"


def test_silence_expires_and_the_next_is_asked(engine: Any, db_url: str) -> None:
    settings = settings_for(db_url, volunteer_offers_per_place=1, volunteer_offer_hours=24)
    (assoc, _) = make_area(engine)
    a, b = (add_volunteer(engine, assoc, n) for n in "ab")
    slot_id = add_slot(engine, assoc, settings=settings)
    with session_scope(engine) as session:
        volunteers.offer_slot(session, slot_id, T0, settings=settings)
    assert _offers(engine, slot_id) == {a: "offered"}

    with session_scope(engine) as session:  # not yet due
        expired = volunteers.expire_offers(session, T0 + timedelta(hours=23), settings=settings)
        assert expired.expired == 0
    with session_scope(engine) as session:
        expired = volunteers.expire_offers(session, T0 + timedelta(hours=24), settings=settings)
        assert expired.expired == 1
    assert _offers(engine, slot_id) == {a: "expired", b: "offered"}

    with session_scope(engine) as session:
        late = volunteers.respond(
            session,
            offer_id=_offer_id(engine, slot_id, a),
            resident_id=a,
            accept=True,
            now=T0 + timedelta(hours=25),
            settings=settings,
        )
    assert late.status == "expired"
    with Session(engine) as session:
        assert session.get(Slot, slot_id).filled == 0  # type: ignore[union-attr]


def test_ranking_respects_availability_reach_interest_and_pause(engine: Any, db_url: str) -> None:
    settings = settings_for(db_url, volunteer_offers_per_place=10)
    (assoc, other) = make_area(engine)
    fits = add_volunteer(engine, assoc, "fits")
    add_volunteer(engine, assoc, "weekday", times=("weekday_evening",))
    add_volunteer(engine, assoc, "kids", interests=("kodomo",))
    add_volunteer(engine, other, "neighbour")  # own association only
    near = add_volunteer(engine, other, "near", reach="district")
    paused = add_volunteer(engine, assoc, "paused")
    with session_scope(engine) as session:
        volunteers.set_paused(session, paused, True, T0, settings=settings)
        keys = session.exec(
            select(VolunteerMatchKey).where(
                VolunteerMatchKey.profile_id == volunteers.get_profile(session, paused).id  # type: ignore[union-attr]
            )
        ).all()
        assert keys == []
    slot_id = add_slot(engine, assoc, needed=3, settings=settings)
    with session_scope(engine) as session:
        made = volunteers.offer_slot(session, slot_id, T0, settings=settings)
    # own association first (distance), then the district volunteer
    assert [o.resident_id for o in made] == [fits, near]


def test_direct_sign_up_within_cap(engine: Any, db_url: str) -> None:
    settings = settings_for(db_url)
    (assoc, _) = make_area(engine)
    me = add_volunteer(engine, assoc, "me", cap=1)
    first = add_slot(engine, assoc, needed=2, settings=settings)
    second = add_slot(
        engine,
        assoc,
        needed=2,
        starts_at=SAT_MORNING + timedelta(days=7),
        role="公園の清掃",
        settings=settings,
    )

    with Session(engine) as session:
        found = volunteers.browse(session, me, T0)
    assert [s.id for s, _ in found] == [first, second]

    with session_scope(engine) as session:
        assert (
            volunteers.sign_up(
                session, slot_id=first, resident_id=me, now=T0, settings=settings
            ).status
            == "accepted"
        )
    with session_scope(engine) as session:
        assert (
            volunteers.sign_up(
                session, slot_id=first, resident_id=me, now=T0, settings=settings
            ).status
            == "already"
        )
    with session_scope(engine) as session:  # cap 1 a month: December is taken
        over = volunteers.sign_up(
            session, slot_id=second, resident_id=me, now=T0, settings=settings
        )
    assert (over.status, over.cap) == ("over_cap", 1)
    with Session(engine) as session:
        assert [session.get(Slot, s).filled for s in (first, second)] == [1, 0]  # type: ignore[union-attr]
        assert [s.id for s, _ in volunteers.browse(session, me, T0)] == [second]


def test_reminder_then_confirmation_records_hours_points_and_thanks(
    engine: Any, db_url: str
) -> None:
    settings = settings_for(db_url, volunteer_points_per_hour=10)
    (assoc, _) = make_area(engine)
    came, missed = (add_volunteer(engine, assoc, n) for n in ("came", "missed"))
    slot_id = add_slot(engine, assoc, needed=2, hours=2.5, settings=settings)
    for who in (came, missed):
        with session_scope(engine) as session:
            volunteers.sign_up(session, slot_id=slot_id, resident_id=who, now=T0, settings=settings)

    day_before = SAT_MORNING - timedelta(hours=20)
    with session_scope(engine) as session:

        def remind(now: Any) -> int:  # what the reminder job does
            due = volunteer_shifts.due_shift_reminders(session, now, settings=settings)
            return push_tells(session, now, due, settings)

        assert remind(T0) == 0
        assert remind(day_before) == 2
        assert remind(day_before) == 0
    assert any("お手伝いのお知らせ" in t for t in pushed_texts(engine, came, "volunteer_reminder"))

    after = SAT_MORNING + timedelta(hours=3)
    with session_scope(engine) as session:
        recorded = volunteer_shifts.confirm_attendance(
            session, slot_id=slot_id, attended=[came], now=after, staff_id=7, settings=settings
        )
        push_tells(session, after, recorded.tells, settings)
    with Session(engine) as session:
        assert volunteer_shifts.points_of(session, came) == volunteer_shifts.Points(25, 2.5, 1)
        assert volunteer_shifts.points_of(session, missed) == volunteer_shifts.Points(0, 0.0, 0)
        shifts = {s.resident_id: s for s in session.exec(select(Shift))}
    assert shifts[came].confirmed_by_staff_id == 7 and not shifts[came].assumed
    assert not shifts[missed].attended
    assert any("25ポイント" in t for t in pushed_texts(engine, came, "volunteer_thanks"))
    assert not pushed_texts(engine, missed, "volunteer_thanks")

    with session_scope(engine) as session:  # confirmed slots are not assumed again
        assert (
            len(
                volunteer_shifts.assume_attendance_after_grace(
                    session, after + timedelta(days=30), settings=settings
                ).shifts
            )
            == 0
        )


def test_unconfirmed_shift_is_assumed_after_grace(engine: Any, db_url: str) -> None:
    settings = settings_for(db_url, volunteer_grace_hours=72)
    (assoc, _) = make_area(engine)
    me = add_volunteer(engine, assoc, "me")
    slot_id = add_slot(engine, assoc, hours=2, settings=settings)
    with session_scope(engine) as session:
        volunteers.sign_up(session, slot_id=slot_id, resident_id=me, now=T0, settings=settings)
    end = SAT_MORNING + timedelta(hours=2)
    with session_scope(engine) as session:
        assert (
            len(
                volunteer_shifts.assume_attendance_after_grace(
                    session, end + timedelta(hours=71), settings=settings
                ).shifts
            )
            == 0
        )
    with session_scope(engine) as session:
        assert (
            len(
                volunteer_shifts.assume_attendance_after_grace(
                    session, end + timedelta(hours=72), settings=settings
                ).shifts
            )
            == 1
        )
    with Session(engine) as session:
        shift = session.exec(select(Shift)).one()
        profile = volunteers.get_profile(session, me)
    assert (shift.assumed, shift.hours, shift.points) == (True, 2.0, 20)
    assert profile is not None and profile.points == 20


def test_tallies_count_places_asks_volunteers_and_concentration(engine: Any, db_url: str) -> None:
    settings = settings_for(db_url)
    (assoc, _) = make_area(engine)
    people = [add_volunteer(engine, assoc, f"v{n}", cap=8) for n in range(10)]
    slots = [
        add_slot(
            engine,
            assoc,
            needed=1,
            settings=settings,
            starts_at=SAT_MORNING + timedelta(days=7 * (n % 3), hours=n),
        )
        for n in range(4)
    ]
    # v0 serves three shifts, v1 one: the busiest 10% (1 of 2 volunteers) did 3 of 4.
    for slot_id, who in zip(slots, [people[0], people[0], people[0], people[1]], strict=True):
        with session_scope(engine) as session:
            volunteers.sign_up(session, slot_id=slot_id, resident_id=who, now=T0, settings=settings)
    open_slot = add_slot(engine, assoc, needed=2, settings=settings)
    with session_scope(engine) as session:
        volunteers.offer_slot(session, open_slot, T0, settings=settings)
        later = SAT_MORNING + timedelta(days=30)
        volunteers.expire_offers(session, later, settings=settings)
        volunteer_shifts.assume_attendance_after_grace(session, later, settings=settings)
    with Session(engine) as session:
        counts = volunteer_tallies.slot_counts(session)
        offers = volunteer_tallies.offer_counts(session)
        share = volunteer_tallies.busiest_share(session)
        months = volunteer_tallies.volunteers_by_month(session)
        hours = volunteer_tallies.hours_by_association(session, [assoc])
    assert (counts.filled_slots, counts.open_slots) == (4, 1)
    assert offers["signups"] == 4 and offers["sent"] == 4
    assert (offers["expired"], offers["pending"], offers["accepted"]) == (4, 0, 0)
    assert share == 0.75
    assert months == {202612: 2}
    assert hours[0].hours == 8.0 and hours[0].points == 80 and hours[0].shifts == 4


def test_profile_interests_feed_notice_tags(engine: Any, db_url: str) -> None:
    from bot.core.models.residents import ResidentInterest

    (assoc, _) = make_area(engine)
    me = add_volunteer(engine, assoc, "me", interests=("bousai", "kodomo"))
    with session_scope(engine) as session:
        volunteers.save_profile(
            session,
            me,
            volunteers.ProfileInput(
                interests=["kodomo", "seisou"],
                skills=[],
                availability=["weekend_morning"],
                max_per_month=1,
                reach="ward",
            ),
            T0,
        )
    with Session(engine) as session:
        tags = set(
            session.exec(select(ResidentInterest.tag).where(ResidentInterest.resident_id == me))
        )
        profile = session.exec(select(VolunteerProfile)).one()
    assert tags == {"kodomo", "seisou"}
    assert profile.reach == "ward" and profile.ward_id is not None


def test_forget_blanks_the_profile_and_withdraws_asks(engine: Any, db_url: str) -> None:
    settings = settings_for(db_url)
    (assoc, _) = make_area(engine)
    me = add_volunteer(engine, assoc, "me", skills=("first_aid",))
    slot_id = add_slot(engine, assoc, settings=settings)
    with session_scope(engine) as session:
        volunteers.offer_slot(session, slot_id, T0, settings=settings)
    with session_scope(engine) as session:
        volunteers.forget(session, me, T0)
    with Session(engine) as session:
        profile = volunteers.get_profile(session, me)
        keys = session.exec(select(VolunteerMatchKey)).all()
    assert profile is not None and (profile.interests, profile.skills, profile.paused) == (
        [],
        [],
        True,
    )
    assert keys == []
    assert _offers(engine, slot_id) == {me: "withdrawn"}
