"""One resident in each language, from adding the bot to a survey, through the real webhook.

The LINE profile's language picks the first locale (ja; en; zh-Hant -> やさしい日本語). The
resident joins by typing a kana town (several 丁目 offered, none is theirs) and then a romaji
one, answers an event, accepts a volunteer ask and answers a survey question. Everything
they were sent is then read as they would read it: English without Japanese outside marked
proper nouns, やさしい日本語 without a kanji lacking its reading (tests/language_check.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from bot.clock import FixedClock
from bot.content import Content
from bot.conversation import postback
from bot.core import place_names
from bot.core.models.areas import District
from bot.core.models.membership import Membership, MembershipStatus
from bot.db import session_scope
from bot.features.events.actions import RsvpTap
from bot.features.volunteers import volunteers
from bot.features.volunteers.actions import OfferAnswer
from bot.features.volunteers.models import VolunteerOffer
from tests.builders import T0
from tests.factories import follow_event
from tests.features.events.support import make_event
from tests.features.membership.join_support import (
    code_message,
    counter_code,
    resident,
    seed_city,
)
from tests.features.volunteers.support import SAT_MORNING, add_slot, push_tells
from tests.harness import chips, clocked_bot, text_of
from tests.language_check import problems
from tests.scheduler_support import invite, make_wave

USER = "U" + "9e" * 16


def _new(bot: Any, before: int) -> list[dict[str, Any]]:
    return bot.standin.messages_to(USER)[before:]


def _join(bot: Any, engine: Engine, content: Content, locale: str) -> None:
    t = lambda key: content.text(key, locale)  # noqa: E731
    bot.say(USER, code_message(bot, counter_code(engine, "counter-morioka", T0)))
    bot.tap(USER, t("join.agree"))
    with session_scope(engine) as session:
        ueda = session.execute(select(District).where(District.code == "03")).scalar_one()
        ueda_label = place_names.district_name(ueda, locale)
    bot.tap(USER, ueda_label)
    assert text_of(bot.last(USER)).startswith(t("join.town_ask").split("{")[0][:8])

    bot.say(USER, "うえだ")  # kana: every 丁目 of 上田 is offered
    offered = set(chips(bot.last(USER)))
    expected = {"ja": "上田一丁目", "en": "Ueda 1-chome", "ja-easy": "上田(うえだ)一丁目"}
    assert any(label.startswith(expected[locale]) for label in offered), offered
    bot.tap(USER, t("join.none_of_these"))

    bot.say(USER, "Ueda 3")  # romaji: one 丁目, one association
    assert text_of(bot.last(USER)) == t("join.name_ask")
    bot.say(USER, "Emma Brown")
    bot.tap(USER, t("join.household_2"))
    bot.tap(USER, t("join.no_room"))
    bot.tap(USER, t("join.contact.line"))
    summary = text_of(bot.last(USER))
    town = {"ja": "上田三丁目", "en": "Ueda 3-chome", "ja-easy": "上田(うえだ)三丁目"}[locale]
    assert town in summary, summary
    bot.tap(USER, t("join.send"))
    assert "Emma Brown" not in text_of(bot.last(USER))


def _approve(engine: Engine) -> tuple[int, int]:
    with session_scope(engine) as session:
        me = resident(session, USER)
        row = session.execute(
            select(Membership).where(Membership.resident_id == me.id)  # type: ignore[arg-type]
        ).scalar_one()
        session.execute(
            update(Membership)
            .where(Membership.id == row.id)  # type: ignore[arg-type]
            .values(status=MembershipStatus.APPROVED, decided_at=T0)
        )
        return int(me.id or 0), row.association_id


@pytest.mark.parametrize(
    ("language", "locale"), [("ja", "ja"), ("en", "en"), ("zh-Hant", "ja-easy")]
)
def test_a_resident_finds_their_way_in_their_language(
    bot_factory: Any, engine: Engine, standin: Any, language: str, locale: str
) -> None:
    seed_city(engine)
    bot = clocked_bot(bot_factory, FixedClock(T0))
    content: Content = bot.app.state.content
    settings = bot.app.state.settings
    standin.set_profile(USER, "Emma", language)

    bot.post(follow_event(USER))
    bot.drain()
    assert text_of(bot.standin.messages_to(USER)[0]) == content.text("common.greeting", locale)

    _join(bot, engine, content, locale)
    resident_id, association_id = _approve(engine)

    # An event whose organiser gave an English title but no English place.
    event_id = make_event(
        engine,
        title="秋の防災訓練",
        place="上田公民館",
        description="消火器の使い方を学びます。",
        translations={"en": {"title": "Autumn disaster drill"}},
        association_id=association_id,
    )
    before = len(bot.standin.messages_to(USER))
    bot.press(USER, RsvpTap(event_id, "going").encode())
    answered = " ".join(text_of(m) for m in _new(bot, before))
    title = {"ja": "秋の防災訓練", "en": "Autumn disaster drill", "ja-easy": "秋(あき)"}[locale]
    assert title in answered, answered

    # A volunteer ask, pushed, and accepted.
    with session_scope(engine) as session:
        volunteers.save_profile(
            session,
            resident_id,
            volunteers.ProfileInput(
                interests=("bousai",),
                skills=(),
                availability=("weekend_morning",),
                max_per_month=2,
                reach="association",
            ),
            T0,
        )
    slot_id = add_slot(engine, association_id, needed=1)
    with session_scope(engine) as session:
        asked = volunteers.offer_slot(session, slot_id, T0, settings=settings)
        push_tells(session, T0, asked.tells, settings, content)
    bot.deliver()
    with session_scope(engine) as session:
        offer = session.execute(
            select(VolunteerOffer).where(VolunteerOffer.resident_id == resident_id)  # type: ignore[arg-type]
        ).scalar_one()
    before = len(bot.standin.messages_to(USER))
    bot.press(USER, OfferAnswer(int(offer.id or 0), "yes").encode())
    assert _new(bot, before), "the acceptance was answered"
    assert SAT_MORNING > T0

    # A survey question answered with one tap.
    wave = make_wave(engine, "morioka_participation", opens=T0 - timedelta(hours=1))
    invite(engine, wave, [resident_id])
    before = len(bot.standin.messages_to(USER))
    bot.press(USER, postback.encode(a="sv", w=wave, q=0, o=1))
    assert text_of(_new(bot, before)[0]) == content.text("survey.thanks", locale)

    with session_scope(engine) as session:
        assert resident(session, USER).locale == locale
    everything = bot.standin.messages_to(USER)
    found = problems(everything, locale)
    assert found == [], "\n".join(f"{bad}: {text!r}" for text, bad in found)


def test_the_checks_catch_what_a_reader_would_trip_on() -> None:
    english = [
        {"type": "text", "text": "Reply by 当日まで"},
        {"type": "text", "text": "「上田」 ok"},
    ]
    assert problems(english, "en") == [("Reply by 当日まで", ["当", "日", "ま", "で"])]
    easy = [
        {"type": "text", "text": "町内会に はいる"},
        {"type": "text", "text": "町内会（ちょうないかい）と 桜城(さくらじょう)、7月20日"},
    ]
    assert problems(easy, "ja-easy") == [("町内会に はいる", ["町内会"])]
    chip = {"type": "text", "text": "ok", "quickReply": {"items": [{"action": {"label": "上田"}}]}}
    assert problems([chip], "en") == [("上田", ["上", "田"])]


def test_english_reads_naturally_for_one_person_and_no_deadline(
    bot_factory: Any, engine: Engine, standin: Any
) -> None:
    seed_city(engine)
    bot = clocked_bot(bot_factory, FixedClock(T0))
    standin.set_profile(USER, "Emma", "en")
    bot.post(follow_event(USER))
    bot.drain()
    event_id = make_event(
        engine, title="Cleanup", place="Ueda park", audience={"scope": "everyone"}
    )
    bot.press(USER, RsvpTap(event_id, "going").encode())
    assert "(party of 1)" in text_of(bot.last(USER))
    bot.press(USER, RsvpTap(event_id, "maybe").encode())
    assert "until the day of the event" in text_of(bot.last(USER))
    assert "until the day." not in text_of(bot.last(USER))
