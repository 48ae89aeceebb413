"""Volunteering through the webhook and the LINE stand-in: the profile conversation with edits
and pause, an ask answered by its buttons, browsing and signing up, points after the shift."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from bot.app import Overrides
from bot.clock import FixedClock
from bot.conversation import postback
from bot.db import session_scope
from bot.features.volunteers import shifts as volunteer_shifts
from bot.features.volunteers import volunteers
from bot.features.volunteers.models import VolunteerMatchKey, VolunteerOffer, VolunteerProfile
from tests.builders import T0, add_member, make_area, uid
from tests.factories import postback_event, text_event
from tests.features.volunteers.support import SAT_MORNING, add_slot, add_volunteer, push_tells
from tests.harness import clocked_bot, deliver, postback_data

FLOW = "volunteer_profile"


def _say(bot: Any, user: str, event: dict[str, Any]) -> list[str]:
    before = len(bot.texts_to(user))
    bot.post(event)
    bot.drain()
    return bot.texts_to(user)[before:]


def _pick(bot: Any, user: str, step: str, value: str) -> list[str]:
    return _say(bot, user, postback_event(user, postback.encode(f=FLOW, s=step, v=value)))


def _profile(engine: Any, resident_id: int) -> VolunteerProfile:
    with Session(engine) as session:
        profile = volunteers.get_profile(session, resident_id)
        assert profile is not None
        return profile


def test_profile_conversation_with_edit_and_pause(bot_factory: Any, engine: Any) -> None:
    (assoc, _) = make_area(engine)
    me = add_member(engine, assoc, "hanako")
    bot = clocked_bot(bot_factory, FixedClock(T0))
    user = uid("hanako")

    opened = _say(bot, user, postback_event(user, postback_data("volunteer")))
    assert any("無理のない範囲" in t for t in opened)
    assert any("関心のあることを選んでください" in t for t in opened)
    _pick(bot, user, "interests", "bousai")
    _pick(bot, user, "interests", "kodomo")
    again = _pick(bot, user, "interests", "kodomo")  # a second tap clears it
    assert any("いま選んでいるもの：防災" in t and "子ども" not in t for t in again)
    assert any("できることがあれば" in t for t in _pick(bot, user, "interests", "done"))
    _pick(bot, user, "skills", "first_aid")
    _pick(bot, user, "skills", "done")
    still = _pick(bot, user, "availability", "done")  # nothing chosen yet: asked again
    assert any("都合のよい時間帯を選んでください" in t for t in still)
    _pick(bot, user, "availability", "weekend_morning")
    _pick(bot, user, "availability", "done")
    _pick(bot, user, "frequency", "2")
    saved = _pick(bot, user, "reach", "district")
    assert any("登録しました" in t and "月2回まで" in t and "地区まで" in t for t in saved)
    profile = _profile(engine, me)
    assert (profile.interests, profile.skills, profile.availability) == (
        ["bousai"],
        ["first_aid"],
        ["weekend_morning"],
    )
    assert (profile.max_per_month, profile.reach, profile.association_id) == (2, "district", assoc)

    # Edit one thing from the hub: only that question is asked.
    edit = _say(bot, user, postback_event(user, postback.encode(a="start", f=FLOW, edit=1)))
    assert any("どこを変更しますか" in t for t in edit)
    assert any("何回まで" in t for t in _pick(bot, user, "field", "frequency"))
    edited = _pick(bot, user, "frequency", "1")
    assert any("月1回まで" in t and "防災" in t for t in edited)
    assert _profile(engine, me).max_per_month == 1
    assert _profile(engine, me).interests == ["bousai"]

    # Typing しばらくお休み pauses: no match rows, no asks.
    paused = _say(bot, user, text_event(user, "しばらくお休み"))
    assert any("しばらくお休みにしました" in t for t in paused)
    with Session(engine) as session:
        assert _profile(engine, me).paused
        assert not session.exec(select(VolunteerMatchKey)).all()
    slot_id = add_slot(engine, assoc)
    settings = bot.app.state.settings
    with session_scope(engine) as session:
        assert volunteers.offer_slot(session, slot_id, T0, settings=settings) == []

    resumed = _say(bot, user, postback_event(user, postback_data("vpause", v=0)))
    assert any("再開しました" in t for t in resumed)
    with session_scope(engine) as session:
        asked = volunteers.offer_slot(session, slot_id, T0, settings=settings)
        push_tells(session, T0, asked.tells, settings)
        assert [o.resident_id for o in asked] == [me]


def test_ask_answered_by_button_fills_and_tells_the_others(
    bot_factory: Any, engine: Any, standin: Any
) -> None:
    (assoc, _) = make_area(engine)
    a, b, c = (add_volunteer(engine, assoc, n) for n in ("a", "b", "c"))
    clock = FixedClock(T0)
    bot = clocked_bot(bot_factory, clock)
    settings = bot.app.state.settings
    slot_id = add_slot(engine, assoc, needed=1)
    with session_scope(engine) as session:
        asked = volunteers.offer_slot(session, slot_id, T0, settings=settings)
        push_tells(session, T0, asked.tells, settings)
    deliver(engine, standin, settings, clock.now())
    assert any("防災訓練の受付のお手伝いをお願いできませんか" in t for t in bot.texts_to(uid("a")))
    assert any("お願いできませんか" in t for t in bot.texts_to(uid("b")))
    assert not bot.texts_to(uid("c"))

    with Session(engine) as session:
        offers = {o.resident_id: int(o.id or 0) for o in session.exec(select(VolunteerOffer))}
    declined = _say(
        bot, uid("a"), postback_event(uid("a"), postback_data("vo", o=offers[a], v="no"))
    )
    assert any("見送り" in t for t in declined)
    deliver(engine, standin, settings, clock.now())
    assert any("お願いできませんか" in t for t in bot.texts_to(uid("c")))  # the next one

    with Session(engine) as session:
        offers = {o.resident_id: int(o.id or 0) for o in session.exec(select(VolunteerOffer))}
    taken = _say(bot, uid("c"), postback_event(uid("c"), postback_data("vo", o=offers[c], v="yes")))
    assert any("ありがとうございます！防災訓練の受付をお願いします" in t for t in taken)
    deliver(engine, standin, settings, clock.now())
    assert any("人数がそろいました" in t for t in bot.texts_to(uid("b")))
    late = _say(bot, uid("b"), postback_event(uid("b"), postback_data("vo", o=offers[b], v="yes")))
    assert any("すでに人数がそろいました" in t for t in late)


def test_browse_sign_up_and_points_after_the_shift(
    bot_factory: Any, engine: Any, standin: Any
) -> None:
    (assoc, _) = make_area(engine)
    me = add_volunteer(engine, assoc, "me")
    clock = FixedClock(T0)
    bot = clocked_bot(bot_factory, clock)
    settings = bot.app.state.settings
    slot_id = add_slot(engine, assoc, needed=3, hours=2, role="公園の清掃", interests=("bousai",))
    user = uid("me")

    listed = _say(bot, user, postback_event(user, postback_data("vbrowse")))
    assert any("1. 公園の清掃" in t and "あと3人" in t for t in listed)
    signed = _say(bot, user, postback_event(user, postback_data("vsign", s=slot_id)))
    assert any("申し込みを受け付けました" in t for t in signed)
    twice = _say(bot, user, postback_event(user, postback_data("vsign", s=slot_id)))
    assert any("すでにお引き受けいただいています" in t for t in twice)

    after = SAT_MORNING + timedelta(hours=3)
    with session_scope(engine) as session:
        recorded = volunteer_shifts.confirm_attendance(
            session, slot_id=slot_id, attended=[me], now=after, settings=settings
        )
        push_tells(session, after, recorded.tells, settings)
    deliver(engine, standin, settings, after)
    assert any("20ポイント加えました" in t for t in bot.texts_to(user))
    clock.set(after)
    points = _say(bot, user, postback_event(user, postback_data("vpoints")))
    assert any("地域活動ポイント：20ポイント" in t and "2.0時間（1回）" in t for t in points)


def test_unanswered_ask_expires_on_the_clock_and_the_next_is_asked(
    bot_factory: Any, engine: Any, standin: Any
) -> None:
    (assoc, _) = make_area(engine)
    a, b = (add_volunteer(engine, assoc, n) for n in ("a", "b"))
    clock = FixedClock(T0)
    bot = bot_factory(
        Overrides(clock=clock), volunteer_offers_per_place=1, volunteer_offer_hours=24
    )
    settings = bot.app.state.settings
    slot_id = add_slot(engine, assoc)
    with session_scope(engine) as session:
        asked = volunteers.offer_slot(session, slot_id, clock.now(), settings=settings)
        push_tells(session, clock.now(), asked.tells, settings)
    deliver(engine, standin, settings, clock.now())
    assert any("24時間以内にお返事" in t for t in bot.texts_to(uid("a")))

    clock.advance(timedelta(hours=24))
    with session_scope(engine) as session:  # what the scheduler runs
        expired = volunteers.expire_offers(session, clock.now(), settings=settings)
        push_tells(session, clock.now(), expired.tells, settings)
        assert expired.expired == 1
    deliver(engine, standin, settings, clock.now())
    assert any("お願いできませんか" in t for t in bot.texts_to(uid("b")))
    with Session(engine) as session:
        offer_a = session.exec(select(VolunteerOffer).where(VolunteerOffer.resident_id == a)).one()
    late = _say(
        bot, uid("a"), postback_event(uid("a"), postback_data("vo", o=offer_a.id or 0, v="yes"))
    )
    assert any("お返事の期限が過ぎたため" in t for t in late)
    assert offer_a.status == "expired" and b != a
