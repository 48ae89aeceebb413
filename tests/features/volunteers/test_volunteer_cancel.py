"""Giving a shift back, through the webhook and the LINE stand-in: confirm first, the place
reopens for the next candidate, the tallies count it, and a late one tells the organiser.
An organiser calling a slot off tells those who had accepted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from bot.app import Overrides
from bot.clock import FixedClock
from bot.core.models.membership import Officer
from bot.db import session_scope
from bot.features.volunteers import cancel as volunteer_cancel
from bot.features.volunteers import tallies as volunteer_tallies
from bot.features.volunteers import volunteers
from bot.features.volunteers.models import Slot, VolunteerMonth, VolunteerOffer
from tests.builders import T0, add_member, make_area, uid
from tests.factories import postback_event
from tests.features.volunteers.support import (
    SAT_MORNING,
    add_slot,
    add_volunteer,
    push_tells,
    pushed_texts,
)
from tests.harness import deliver, postback_data


def _say(bot: Any, user: str, data: str) -> list[str]:
    before = len(bot.texts_to(user))
    bot.post(postback_event(user, data))
    bot.drain()
    return bot.texts_to(user)[before:]


def _offers(engine: Any) -> dict[int, VolunteerOffer]:
    with Session(engine) as session:
        return {o.resident_id: o for o in session.exec(select(VolunteerOffer))}


def _accepted_by_a(bot: Any, engine: Any, standin: Any, clock: FixedClock) -> tuple[int, int]:
    """Volunteers a and b; a is asked first and accepts the one place. Returns (slot, offer)."""
    (assoc, _) = make_area(engine)
    a = add_volunteer(engine, assoc, "a")
    add_volunteer(engine, assoc, "b", now=T0 + timedelta(minutes=1))
    settings = bot.app.state.settings
    slot_id = add_slot(engine, assoc, needed=1)
    with session_scope(engine) as session:
        asked = volunteers.offer_slot(session, slot_id, clock.now(), settings=settings)
        push_tells(session, clock.now(), asked.tells, settings)
    offer_a = _offers(engine)[a]
    _say(bot, uid("a"), postback_data("vo", o=offer_a.id or 0, v="yes"))
    deliver(engine, standin, settings, clock.now())
    return slot_id, int(offer_a.id or 0)


def test_cancel_from_my_list_confirms_reopens_and_asks_the_next(
    bot_factory: Any, engine: Any, standin: Any
) -> None:
    clock = FixedClock(T0)
    bot = bot_factory(Overrides(clock=clock), volunteer_offers_per_place=1)
    slot_id, offer_id = _accepted_by_a(bot, engine, standin, clock)
    assert not any("お願いできませんか" in t for t in bot.texts_to(uid("b")))

    mine = _say(bot, uid("a"), postback_data("vpoints"))
    assert any("1. 防災訓練の受付" in t for t in mine)
    chips = standin_chips(bot, uid("a"))
    assert postback_data("vcancel", o=offer_id) in chips  # the list offers a cancel chip per shift

    asked = _say(bot, uid("a"), postback_data("vcancel", o=offer_id))
    assert any("取り消しますか" in t and "担当の方" not in t for t in asked)
    kept = _say(bot, uid("a"), postback_data("vcancel", o=offer_id, c=0))
    assert any("そのままお願いします" in t for t in kept)
    assert _offers(engine)[_resident(engine, "a")].status == "accepted"

    done = _say(bot, uid("a"), postback_data("vcancel", o=offer_id, c=1))
    assert any("取り消しました" in t and "担当の方" not in t for t in done)
    with Session(engine) as session:
        slot = session.get(Slot, slot_id)
        month = session.exec(select(VolunteerMonth)).one()
        assert slot is not None and (slot.filled, slot.status) == (0, "open")
        assert month.committed == 0  # the shift no longer counts against a's cap
        counts = volunteer_tallies.offer_counts(session)
    assert counts["cancelled"] == 1 and counts["accepted"] == 0
    offers = _offers(engine)
    assert offers[_resident(engine, "a")].status == "cancelled"
    assert offers[_resident(engine, "b")].status == "offered"  # the next candidate
    deliver(engine, standin, bot.app.state.settings, clock.now())
    assert any("お願いできませんか" in t for t in bot.texts_to(uid("b")))
    again = _say(bot, uid("a"), postback_data("vcancel", o=offer_id, c=1))
    assert any("以前のご案内" in t for t in again)  # a stale button changes nothing
    assert _offers(engine)[_resident(engine, "a")].status == "cancelled"


def test_late_cancellation_is_allowed_and_the_officers_are_told(
    bot_factory: Any, engine: Any, standin: Any
) -> None:
    clock = FixedClock(T0)
    bot = bot_factory(
        Overrides(clock=clock), volunteer_offers_per_place=1, volunteer_late_cancel_hours=24
    )
    _slot_id, offer_id = _accepted_by_a(bot, engine, standin, clock)
    officer = add_member(engine, _association_of(engine, "a"), "officer")
    with session_scope(engine) as session:
        session.add(
            Officer(resident_id=officer, association_id=_association_of(engine, "a"), linked_at=T0)
        )
    clock.set(SAT_MORNING - timedelta(hours=3))
    asked = _say(bot, uid("a"), postback_data("vcancel", o=offer_id))
    assert any("担当の方にもお知らせします" in t and "24時間" in t for t in asked)
    done = _say(bot, uid("a"), postback_data("vcancel", o=offer_id, c=1))
    assert any("担当の方にもお知らせしました" in t for t in done)
    assert any(
        "直前キャンセル" in t and "あと1人" in t
        for t in pushed_texts(engine, officer, "volunteer_late_cancel")
    )
    deliver(engine, standin, bot.app.state.settings, clock.now())
    assert any("直前キャンセル" in t for t in bot.texts_to(uid("officer")))
    assert not any("直前キャンセル" in t for t in bot.texts_to(uid("b")))


def test_a_started_shift_cannot_be_given_back(bot_factory: Any, engine: Any, standin: Any) -> None:
    clock = FixedClock(T0)
    bot = bot_factory(Overrides(clock=clock), volunteer_offers_per_place=1)
    _slot_id, offer_id = _accepted_by_a(bot, engine, standin, clock)
    with session_scope(engine) as session:
        done = volunteer_cancel.cancel_place(
            session,
            offer_id=offer_id,
            resident_id=_resident(engine, "a"),
            now=SAT_MORNING + timedelta(minutes=5),
            settings=bot.app.state.settings,
        )
    assert done.status == "started"
    assert _offers(engine)[_resident(engine, "a")].status == "accepted"


def test_organiser_cancelling_a_slot_tells_those_who_accepted(engine: Any, db_url: str) -> None:
    from tests.features.volunteers.support import settings_for

    settings = settings_for(db_url, volunteer_offers_per_place=1)
    (assoc, _) = make_area(engine)
    a = add_volunteer(engine, assoc, "a")
    slot_id = add_slot(engine, assoc, needed=2, settings=settings)
    with session_scope(engine) as session:
        answer = volunteers.sign_up(
            session, slot_id=slot_id, resident_id=a, now=T0, settings=settings
        )
        assert answer.status == "accepted"
        withdrawn = volunteer_cancel.cancel_slot(session, slot_id=slot_id, now=T0)
        assert push_tells(session, T0, withdrawn or (), settings) == 1
        assert volunteer_cancel.cancel_slot(session, slot_id=slot_id, now=T0) is None
    with Session(engine) as session:
        slot = session.get(Slot, slot_id)
        assert slot is not None and slot.status == "cancelled"
        assert session.exec(select(VolunteerMonth)).one().committed == 0
        assert volunteer_tallies.slot_counts(session).open_slots == 0
        assert volunteers.commitments(session, a, T0) == []
    assert _offers(engine)[a].status == "withdrawn"
    assert any("中止になりました" in t for t in pushed_texts(engine, a, "volunteer_slot_cancelled"))


def standin_chips(bot: Any, user: str) -> list[str]:
    """Postback data of the quick replies on the last message the stand-in got for `user`."""
    last = bot.standin.messages_to(user)[-1]
    return [item["action"].get("data", "") for item in last.get("quickReply", {}).get("items", [])]


def _resident(engine: Any, name: str) -> int:
    from bot.core.models.residents import Resident

    with Session(engine) as session:
        return int(
            session.exec(select(Resident.id).where(Resident.line_user_id == uid(name))).one() or 0
        )


def _association_of(engine: Any, name: str) -> int:
    from bot.core.models.membership import Membership

    with Session(engine) as session:
        return int(
            session.exec(
                select(Membership.association_id).where(
                    Membership.resident_id == _resident(engine, name)
                )
            ).one()
        )
