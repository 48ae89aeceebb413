"""わたしの出欠 lists everything a resident said they will do: the events they answered and
the volunteer shifts they accepted, soonest first, numbered, each with 変更 / 取消 chips that
work; with nothing yet it says what the resident can do next (the usability test found
shifts missing, cancelling hidden under 活動ポイント, and an empty list that said only
「ほかにご用件があれば…」)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.app import Overrides
from bot.clock import FixedClock
from bot.db import session_scope
from bot.features.events.models import Rsvp
from bot.features.volunteers import volunteers
from bot.features.volunteers.models import VolunteerOffer
from tests.builders import T0, add_member, make_area, uid
from tests.features.events.support import make_event
from tests.features.volunteers.support import SAT_MORNING, add_slot, add_volunteer, push_tells
from tests.harness import chips, deliver, postback_data, text_of


def _turn(bot: Any, user: str, act: Any) -> list[dict[str, Any]]:
    before = len(bot.standin.messages_to(user))
    act()
    return bot.standin.messages_to(user)[before:]


def _accept_a_shift(bot: Any, engine: Any, assoc: int, clock: FixedClock) -> int:
    """hanako volunteers and accepts the one place of a Saturday shift; returns the offer."""
    slot_id = add_slot(engine, assoc, needed=1)
    settings = bot.app.state.settings
    with session_scope(engine) as session:
        asked = volunteers.offer_slot(session, slot_id, clock.now(), settings=settings)
        push_tells(session, clock.now(), asked.tells, settings)
    with Session(engine) as session:
        offer = session.exec(select(VolunteerOffer)).one()
    bot.press(uid("hanako"), postback_data("vo", o=offer.id or 0, v="yes"))
    deliver(engine, bot.standin, settings, clock.now())
    return int(offer.id or 0)


def test_events_and_shifts_listed_together_each_changeable_and_cancellable(
    bot_factory: Any, engine: Any
) -> None:
    (assoc, _) = make_area(engine)
    add_volunteer(engine, assoc, "hanako")
    clock = FixedClock(T0)
    bot = bot_factory(Overrides(clock=clock), volunteer_offers_per_place=1)
    user = uid("hanako")
    cafe = make_event(engine, title="地域カフェ", starts_at=SAT_MORNING + timedelta(days=7))
    bot.press(user, postback_data("rsvp", e=cafe, v="going"))
    offer_id = _accept_a_shift(bot, engine, assoc, clock)

    (listed,) = _turn(bot, user, lambda: bot.say(user, "わたしの出欠"))
    text = text_of(listed)
    assert "1. " in text and "防災訓練の受付" in text and "ボランティア" in text
    assert "2. " in text and "地域カフェ" in text and "参加" in text
    assert text.index("防災訓練の受付") < text.index("地域カフェ")  # soonest first
    offered = chips(listed)
    assert set(offered) == {"1 取消", "2 変更", "2 取消"}  # a shift is given back, not changed
    assert all(len(label) <= 20 for label in offered)

    card = _turn(bot, user, lambda: bot.tap(user, "2 変更", listed))
    assert card[-1]["type"] == "flex" and "地域カフェ" in text_of(card[-1])
    _turn(bot, user, lambda: bot.tap(user, "2 取消", listed))
    with Session(engine) as session:
        assert session.exec(select(Rsvp)).one().answer == "not"

    asked = _turn(bot, user, lambda: bot.tap(user, "1 取消", listed))
    assert "取り消しますか" in text_of(asked[-1])
    bot.tap(user, "取り消す")
    with Session(engine) as session:
        assert session.get(VolunteerOffer, offer_id).status == "cancelled"  # type: ignore[union-attr]

    (empty,) = _turn(bot, user, lambda: bot.say(user, "わたしの出欠"))
    assert "ボランティア" in text_of(empty) and "行事" in text_of(empty)  # what to do next
    assert len(chips(empty)) >= 3  # the menu to do it from


@pytest.mark.parametrize(
    ("locale", "typed", "words"),
    [
        ("en", "My events", ("Sign up", "Volunteer")),
        ("ja-easy", "わたしの よてい", ("もうしこめます",)),
    ],
)
def test_the_empty_list_says_what_to_do_next_in_each_language(
    bot: Any, engine: Any, locale: str, typed: str, words: tuple[str, ...]
) -> None:
    (assoc, _) = make_area(engine)
    add_member(engine, assoc, "hanako", locale=locale)
    user = uid("hanako")
    (empty,) = _turn(bot, user, lambda: bot.say(user, typed))
    assert all(word in text_of(empty) for word in words), text_of(empty)
    assert chips(empty)
