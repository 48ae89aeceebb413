"""Event services without HTTP: audiences, reminders, tallies, proxy entry, ICS of a cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest
from sqlmodel import Session

from bot.conversation.notifier import Notifier
from bot.core.audience import Audience, AudienceError, resolve
from bot.core.models.areas import Association, District, Ward
from bot.core.models.han import HanAssignment
from bot.core.models.residents import ResidentInterest
from bot.db import session_scope
from bot.features.events import checkin as event_checkin
from bot.features.events import events, ics, rsvp
from bot.features.events import tallies as tallies_events
from bot.features.events.models import Event
from tests.builders import T0, add_member, add_resident, make_area
from tests.features.events.support import edit_event, make_event, plain_notifier


@pytest.fixture
def notifier() -> Notifier:
    return plain_notifier()


def _second_ward(engine: Any) -> int:
    with session_scope(engine) as session:
        ward = Ward(code="W2", name="北区")
        session.add(ward)
        session.flush()
        district = District(code="D2", ward_id=int(ward.id or 0), name="北地区")
        session.add(district)
        session.flush()
        assoc = Association(code="N1", district_id=int(district.id or 0), name="北町内会")
        session.add(assoc)
        session.flush()
        return int(assoc.id or 0)


def test_audience_scopes_and_filters(engine: Any) -> None:
    (a1, a2) = make_area(engine)
    north = _second_ward(engine)
    ids = {
        name: add_member(engine, assoc, name)
        for name, assoc in (("p", a1), ("q", a1), ("r", a2), ("s", north))
    }
    loner = add_resident(engine, "loner")
    with session_scope(engine) as session:
        session.add(ResidentInterest(resident_id=ids["q"], tag="防災"))
        session.add(ResidentInterest(resident_id=ids["s"], tag="防災"))
        session.add(HanAssignment(association_id=a1, resident_id=ids["p"], han="3班"))
    event_id = make_event(engine, association_id=a1)
    with session_scope(engine) as session:
        event_checkin.mark_attended(session, event_id=event_id, resident_id=ids["p"], now=T0)

    def who(audience: Audience) -> set[int]:
        with Session(engine) as session:
            return {m.resident_id for m in resolve(session, audience)}

    with Session(engine) as session:
        district_id = session.get(Association, a1).district_id  # type: ignore[union-attr]
        ward_id = session.get(District, district_id).ward_id  # type: ignore[union-attr]
        han = {m.resident_id: m.han for m in resolve(session, Audience("association", (a1,)))}
    assert who(Audience("association", (a1,))) == {ids["p"], ids["q"]}
    assert han[ids["p"]] == "3班"
    assert who(Audience("district", (district_id,))) == {ids["p"], ids["q"], ids["r"]}
    assert who(Audience("ward", (ward_id,))) == {ids["p"], ids["q"], ids["r"]}
    assert who(Audience("everyone")) == {*ids.values(), loner}
    assert who(Audience("everyone", interest="防災")) == {ids["q"], ids["s"]}
    assert who(Audience("district", (district_id,), never_participated=True)) == {
        ids["q"],
        ids["r"],
    }
    with pytest.raises(AudienceError):
        Audience("association")


def test_event_tally_by_association_with_walk_ins_and_proxy_entry(
    engine: Any, notifier: Notifier
) -> None:
    (a1, a2) = make_area(engine)
    p = add_member(engine, a1, "p")
    q = add_member(engine, a1, "q")
    r = add_member(engine, a2, "r")
    event_id = make_event(engine, headcount_allowed=True, capacity=10)
    with session_scope(engine) as session:
        rsvp.answer(
            session,
            event_id=event_id,
            resident_id=p,
            choice="going",
            adults=2,
            children=2,
            needs="車いす",
            now=T0,
        )
        rsvp.answer(session, event_id=event_id, resident_id=q, choice="maybe", now=T0)
        rsvp.answer(session, event_id=event_id, resident_id=r, choice="going", now=T0)
        paper = rsvp.offline_resident(session, now=T0)
        proxy = rsvp.answer(
            session,
            event_id=event_id,
            resident_id=int(paper.id or 0),
            choice="going",
            now=T0,
            entered_by_resident_id=q,
            proxy_label="3班 山田",
        )
        assert proxy.rsvp is not None and proxy.rsvp.entered_by_resident_id == q
        event_checkin.mark_attended(session, event_id=event_id, resident_id=p, now=T0, staff_id=7)
        event_checkin.record_walk_ins(session, event_id=event_id, adults=3, children=1, now=T0)
    with Session(engine) as session:
        tally = tallies_events.event_tally(session, event_id=event_id)
    assert (tally.total.going, tally.total.maybe, tally.total.headcount) == (3, 1, 6)
    assert tally.total.needs_noted == 1 and tally.total.checked_in == 1
    assert tally.by_association[a1].going == 1 and tally.by_association[a1].headcount == 4
    assert tally.by_association[a2].going == 1
    assert tally.by_association[None].going == 1  # the proxy entry, a non-member
    assert tally.attended == 5


def test_association_months_count_held_events_and_participants(
    engine: Any, notifier: Notifier
) -> None:
    (a1, _) = make_area(engine)
    p = add_member(engine, a1, "p")
    nov = make_event(engine, association_id=a1, starts_at=datetime(2026, 11, 20, 1, 0, tzinfo=UTC))
    dec = make_event(engine, association_id=a1, starts_at=datetime(2026, 12, 6, 1, 0, tzinfo=UTC))
    make_event(
        engine, association_id=a1, starts_at=datetime(2026, 12, 7, 1, tzinfo=UTC), publish=False
    )
    with session_scope(engine) as session:
        event_checkin.mark_attended(session, event_id=nov, resident_id=p, now=T0)
        event_checkin.mark_attended(session, event_id=dec, resident_id=p, now=T0)
        event_checkin.record_walk_ins(session, event_id=dec, adults=4, now=T0)
    with Session(engine) as session:
        rows = tallies_events.association_months(session, now=datetime(2026, 12, 31, tzinfo=UTC))
    assert [(r.month, r.events_held, r.participants, r.distinct_residents) for r in rows] == [
        ("2026-11", 1, 1, 1),
        ("2026-12", 1, 5, 1),
    ]


def test_cancelled_event_ics_says_cancelled(engine: Any, notifier: Notifier) -> None:
    make_area(engine)
    event_id = make_event(engine)
    with session_scope(engine) as session:
        events.cancel_event(session, event_id=event_id, now=T0)
        event = session.get(Event, event_id)
        assert event is not None
        parsed = icalendar.Calendar.from_ical(ics.event_ics(event, now=T0))
    (vevent,) = parsed.walk("VEVENT")
    assert str(vevent["status"]) == "CANCELLED"


def test_answers_refused_for_drafts_and_bad_party_sizes(engine: Any, notifier: Notifier) -> None:
    (a1, _) = make_area(engine)
    p = add_member(engine, a1, "p")
    draft = make_event(engine, publish=False)
    open_event = make_event(engine, headcount_allowed=True, max_party=3)
    with session_scope(engine) as session:
        assert (
            rsvp.answer(session, event_id=draft, resident_id=p, choice="going", now=T0).status
            == "not_open"
        )
        assert (
            rsvp.answer(
                session,
                event_id=open_event,
                resident_id=p,
                choice="going",
                adults=3,
                children=1,
                now=T0,
            ).status
            == "invalid"
        )
        assert (
            rsvp.answer(
                session,
                event_id=open_event,
                resident_id=p,
                choice="going",
                adults=0,
                now=T0,
            ).status
            == "invalid"
        )


def test_announcements_enqueue_once_however_often_called(engine: Any, notifier: Notifier) -> None:
    from sqlalchemy import func, select

    from bot.features.notices import messages as notice_messages
    from bot.platform.delivery.models import OutboxMessage

    (a1, _) = make_area(engine)
    add_member(engine, a1, "p")
    add_member(engine, a1, "q")
    event_id = make_event(engine, association_id=a1, starts_at=T0 + timedelta(hours=3))
    with session_scope(engine) as session:
        first = notice_messages.announce_event(session, event_id, notifier, T0, "")
        again = notice_messages.announce_event(session, event_id, notifier, T0, "")
    assert (first.sent, first.recipients, again.sent) == (True, 2, False)
    with Session(engine) as session:
        kinds = dict(
            session.execute(
                select(OutboxMessage.kind, func.count()).group_by(OutboxMessage.kind)
            ).all()
        )
    assert kinds == {"notice": 1}


def test_raising_capacity_offers_places_to_the_waitlist_in_order(
    engine: Any, notifier: Notifier
) -> None:
    (a1, _) = make_area(engine)
    people = [add_member(engine, a1, n) for n in ("p", "q", "r")]
    event_id = make_event(engine, capacity=1)
    with session_scope(engine) as session:
        results = [
            rsvp.answer(
                session,
                event_id=event_id,
                resident_id=rid,
                choice="going",
                now=T0 + timedelta(minutes=i),
            )
            for i, rid in enumerate(people)
        ]
        assert [r.status for r in results] == ["saved", "waitlisted", "waitlisted"]
        assert [r.position for r in results[1:]] == [1, 2]
        edit_event(session, notifier, event_id=event_id, now=T0, changes={"capacity": 2})
        offered = session.exec(select_offers(event_id)).all()
    assert [o.resident_id for o in offered] == [people[1]]


def select_offers(event_id: int) -> Any:
    """Open offers of an event."""
    from sqlmodel import select

    from bot.features.events.models import WaitlistOffer, WaitlistOfferStatus

    return select(WaitlistOffer).where(
        WaitlistOffer.event_id == event_id, WaitlistOffer.status == WaitlistOfferStatus.OPEN
    )


def test_concurrent_answers_never_overfill_capacity(engine: Any, notifier: Notifier) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from sqlmodel import select

    from bot.features.events.models import Rsvp

    (a1, _) = make_area(engine)
    people = [add_member(engine, a1, f"c{n}") for n in range(8)]
    event_id = make_event(engine, capacity=3)

    def going(resident_id: int) -> str:
        with session_scope(engine) as session:
            return rsvp.answer(
                session,
                event_id=event_id,
                resident_id=resident_id,
                choice="going",
                now=T0,
            ).status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(going, people))
    with Session(engine) as session:
        answers = [r.answer for r in session.exec(select(Rsvp).where(Rsvp.event_id == event_id))]
    assert sorted(statuses) == ["saved"] * 3 + ["waitlisted"] * 5
    assert answers.count("going") == 3 and answers.count("waitlisted") == 5


def test_a_going_party_may_shrink_but_not_grow_past_capacity(
    engine: Any, notifier: Notifier
) -> None:
    (a1, _) = make_area(engine)
    p = add_member(engine, a1, "p")
    event_id = make_event(engine, capacity=3, headcount_allowed=True)

    def going(adults: int) -> str:
        with session_scope(engine) as session:
            return rsvp.answer(
                session,
                event_id=event_id,
                resident_id=p,
                choice="going",
                adults=adults,
                now=T0,
            ).status

    assert going(2) == "saved"
    with session_scope(engine) as session:
        edit_event(session, notifier, event_id=event_id, now=T0, changes={"capacity": 1})
    assert going(2) == "saved"  # tapping again changes nothing
    assert going(4) == "full"
    assert going(1) == "saved"
    with Session(engine) as session:
        assert rsvp.find(session, event_id=event_id, resident_id=p).adults == 1  # type: ignore[union-attr]


def test_roster_shows_names_needs_proxy_entries_and_check_ins(
    engine: Any, notifier: Notifier
) -> None:
    from bot.features.events.roster import roster

    (a1, _) = make_area(engine)
    p = add_member(engine, a1, "p")
    leader = add_member(engine, a1, "leader")
    with session_scope(engine) as session:
        member = session.exec(select_membership(p)).one()
        member.full_name = "山田花子"
        session.add(member)
    event_id = make_event(engine, capacity=1)
    with session_scope(engine) as session:
        rsvp.answer(
            session,
            event_id=event_id,
            resident_id=p,
            choice="going",
            needs="手話通訳",
            now=T0,
        )
        offline = rsvp.offline_resident(session, now=T0)
        rsvp.answer(
            session,
            event_id=event_id,
            resident_id=int(offline.id or 0),
            choice="going",
            now=T0,
            entered_by_resident_id=leader,
            proxy_label="3班 佐藤",
        )
        event_checkin.mark_attended(session, event_id=event_id, resident_id=p, now=T0)
    with Session(engine) as session:
        rows = roster(session, event_id=event_id)
    assert [(r.name, r.answer, r.needs, r.by_proxy, r.checked_in) for r in rows] == [
        ("山田花子", "going", "手話通訳", False, True),
        ("3班 佐藤", "waitlisted", "", True, False),
    ]


def select_membership(resident_id: int) -> Any:
    """The membership row of a resident."""
    from sqlmodel import select

    from bot.core.models.membership import Membership

    return select(Membership).where(Membership.resident_id == resident_id)
