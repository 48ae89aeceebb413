"""RSVPs through the webhook and the LINE stand-in: headcount, changes, deadline, waitlist."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from bot.clock import FixedClock
from bot.conversation import postback
from bot.features.events import rsvp
from bot.features.events.jobs import offer_timeouts
from bot.features.events.models import Rsvp, WaitlistOffer, WaitlistOfferStatus
from tests.builders import T0, add_member, make_area, uid
from tests.factories import postback_event
from tests.features.events.support import job_deps, make_event
from tests.harness import clocked_bot, deliver, postback_data


def _rsvp(engine: Any, event_id: int, name: str) -> Rsvp | None:
    with Session(engine) as session:
        return session.exec(
            select(Rsvp).where(
                Rsvp.event_id == event_id, Rsvp.resident_id == _resident_id(engine, name)
            )
        ).first()


def _resident_id(engine: Any, name: str) -> int:
    from bot.core.models.residents import Resident

    with Session(engine) as session:
        found = session.exec(select(Resident.id).where(Resident.line_user_id == uid(name))).one()
        return int(found or 0)


def _say(bot: Any, user: str, data: str) -> list[str]:
    before = len(bot.texts_to(user))
    bot.post(postback_event(user, data))
    bot.drain()
    return bot.texts_to(user)[before:]


def test_rsvp_yes_with_headcount_change_to_no_and_deadline_refuses(
    bot_factory: Any, engine: Any
) -> None:
    (assoc, _) = make_area(engine)
    add_member(engine, assoc, "hanako")
    event_id = make_event(
        engine, headcount_allowed=True, max_party=5, rsvp_deadline=T0 + timedelta(days=1)
    )
    clock = FixedClock(T0)
    bot = clocked_bot(bot_factory, clock)
    user = uid("hanako")

    asked = _say(bot, user, postback_data("rsvp", e=event_id, v="going"))
    assert any("大人の人数" in text for text in asked)
    _say(bot, user, postback.encode(f="rsvp_count", s="adults", v="2"))
    saved = _say(bot, user, postback.encode(f="rsvp_count", s="children", v="1"))
    assert any("参加（3人）" in text for text in saved)
    answer = _rsvp(engine, event_id, "hanako")
    assert answer is not None and (answer.answer, answer.adults, answer.children) == ("going", 2, 1)

    assert any(
        "不参加で受け付けました" in t
        for t in _say(bot, user, postback_data("rsvp", e=event_id, v="not"))
    )
    assert _rsvp(engine, event_id, "hanako").answer == "not"  # type: ignore[union-attr]

    clock.set(T0 + timedelta(days=1, minutes=1))
    refused = _say(bot, user, postback_data("rsvp", e=event_id, v="going"))
    assert any("締め切りました" in t for t in refused)
    assert _rsvp(engine, event_id, "hanako").answer == "not"  # type: ignore[union-attr]


def test_capacity_two_waitlists_the_third_offers_on_cancel_then_next_on_expiry(
    bot_factory: Any, engine: Any, standin: Any
) -> None:
    (assoc, _) = make_area(engine)
    names = ["a", "b", "c", "d"]
    for name in names:
        add_member(engine, assoc, name)
    event_id = make_event(engine, capacity=2)
    clock = FixedClock(T0)
    bot = clocked_bot(bot_factory, clock)
    settings = bot.app.state.settings

    replies = {n: _say(bot, uid(n), postback_data("rsvp", e=event_id, v="going")) for n in names}
    assert any("参加（1人）" in t for t in replies["a"])
    assert any("参加（1人）" in t for t in replies["b"])
    assert any("キャンセル待ち1番目" in t for t in replies["c"])
    assert any("キャンセル待ち2番目" in t for t in replies["d"])

    # a cancels from "my events": the place is offered to c (and only c), by push.
    _say(bot, uid("a"), postback_data("rsvp_cancel", e=event_id))
    deliver(engine, standin, settings, clock.now())
    assert any("空きが出ました" in t for t in bot.texts_to(uid("c")))
    assert not any("空きが出ました" in t for t in bot.texts_to(uid("d")))
    with Session(engine) as session:
        assert rsvp.free_places(session, rsvp_get(session, event_id)) == 0  # held for c

    # c lets the offer lapse: the scheduler's expiry tells c and offers the place to d.
    clock.set(T0 + rsvp.DEFAULT_OFFER_TIME + timedelta(minutes=1))
    with Session(engine) as session:
        assert offer_timeouts(now=clock.now(), session=session, deps=job_deps(bot)) == 1
        assert offer_timeouts(now=clock.now(), session=session, deps=job_deps(bot)) == 0
        session.commit()
    deliver(engine, standin, settings, clock.now())
    assert any("期限が過ぎたため" in t for t in bot.texts_to(uid("c")))
    offers_to_d = [t for t in bot.texts_to(uid("d")) if "空きが出ました" in t]
    assert len(offers_to_d) == 1

    with Session(engine) as session:
        offer = session.exec(
            select(WaitlistOffer).where(WaitlistOffer.status == WaitlistOfferStatus.OPEN)
        ).one()
    taken = _say(bot, uid("d"), postback_data("offer", o=int(offer.id or 0), v="yes"))
    assert any("参加が決まりました" in t for t in taken)
    assert _rsvp(engine, event_id, "d").answer == "going"  # type: ignore[union-attr]
    assert _rsvp(engine, event_id, "c").answer == "not"  # type: ignore[union-attr]


def rsvp_get(session: Session, event_id: int) -> Any:
    """The event, loaded in `session`."""
    from bot.features.events.models import Event

    return session.get(Event, event_id)


def test_tapping_going_twice_keeps_one_answer_and_one_place(bot_factory: Any, engine: Any) -> None:
    (assoc, _) = make_area(engine)
    add_member(engine, assoc, "taro")
    add_member(engine, assoc, "jiro")
    event_id = make_event(engine, capacity=1)
    bot = clocked_bot(bot_factory, FixedClock(T0))
    _say(bot, uid("taro"), postback_data("rsvp", e=event_id, v="going"))
    again = _say(bot, uid("taro"), postback_data("rsvp", e=event_id, v="going"))
    assert any("参加（1人）" in t for t in again)
    second = _say(bot, uid("jiro"), postback_data("rsvp", e=event_id, v="going"))
    assert any("キャンセル待ち1番目" in t for t in second)
    with Session(engine) as session:
        rows = session.exec(select(Rsvp).where(Rsvp.event_id == event_id)).all()
    assert sorted(r.answer for r in rows) == ["going", "waitlisted"]


def test_my_events_lists_upcoming_and_needs_reach_the_answer(bot_factory: Any, engine: Any) -> None:
    (assoc, _) = make_area(engine)
    add_member(engine, assoc, "yuki")
    event_id = make_event(engine, title="地域カフェ")
    bot = clocked_bot(bot_factory, FixedClock(T0))
    user = uid("yuki")
    _say(bot, user, postback_data("rsvp", e=event_id, v="going"))
    _say(bot, user, postback.encode(a="start", f="rsvp_needs", e=event_id))
    noted = _say(bot, user, postback.encode(f="rsvp_needs", s="needs", v="wheelchair"))
    assert any("主催者に伝えました" in t for t in noted)
    assert _rsvp(engine, event_id, "yuki").needs == "車いす"  # type: ignore[union-attr]
    listed = _say(bot, user, postback_data("my_events"))
    assert any("地域カフェ" in t and "参加" in t for t in listed)
