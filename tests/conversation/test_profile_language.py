"""A new friend is greeted in the language their LINE app speaks (GET /v2/bot/profile)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.conversation.language import locale_for_profile
from bot.db import session_scope
from bot.settings import DEFAULT_CONTENT_DIR
from tests.factories import follow_event
from tests.features.membership.join_support import resident

HANA = "U" + "4a" * 16
EMMA = "U" + "e1" * 16
MAI = "U" + "3c" * 16
LAN = "U" + "7b" * 16


@pytest.mark.parametrize(
    ("language", "locale"),
    [
        ("ja", "ja"),
        ("en", "en"),
        ("en-GB", "en"),
        ("zh-Hant", "ja-easy"),
        ("vi", "en"),
        (None, "ja"),
        ("", "ja"),
    ],
)
def test_profile_language_maps_to_a_locale(language: str | None, locale: str) -> None:
    assert locale_for_profile(language, Path(DEFAULT_CONTENT_DIR), "ja") == locale


def _follow(bot: Any, user: str) -> None:
    bot.post(follow_event(user))
    bot.drain()


def test_english_profile_greets_in_english_and_the_chip_still_switches(
    bot: Any, engine: Engine
) -> None:
    bot.standin.set_profile(EMMA, "Emma", "en")
    _follow(bot, EMMA)
    greeting = bot.texts_to(EMMA)[0]
    assert greeting.startswith("Hello, this is Tsunagari")
    with session_scope(engine) as session:
        assert resident(session, EMMA).locale == "en"
    calls = [r for r in bot.standin.requests if r.path == f"/v2/bot/profile/{EMMA}"]
    assert len(calls) == 1
    # The language chip still switches: Emma picks Japanese.
    bot.say(EMMA, "Language")
    bot.tap(EMMA, "日本語")
    with session_scope(engine) as session:
        assert resident(session, EMMA).locale == "ja"


def test_chinese_profile_greets_in_easy_japanese(bot: Any, engine: Engine) -> None:
    bot.standin.set_profile(MAI, "Mai", "zh-Hant")
    _follow(bot, MAI)
    assert "はじめまして。「つながり」です" in bot.texts_to(MAI)[0]
    with session_scope(engine) as session:
        assert resident(session, MAI).locale == "ja-easy"


def test_refollow_keeps_the_language_the_resident_chose(bot: Any, engine: Engine) -> None:
    bot.standin.set_profile(HANA, "Hana", "en")
    _follow(bot, HANA)
    bot.say(HANA, "Language")
    bot.tap(HANA, "やさしい にほんご")
    bot.post(follow_event(HANA, unblocked=True))
    bot.drain()
    with session_scope(engine) as session:
        assert resident(session, HANA).locale == "ja-easy"
    assert len([r for r in bot.standin.requests if r.path == f"/v2/bot/profile/{HANA}"]) == 1


def test_profile_failure_greets_in_the_default_language(bot: Any, engine: Engine) -> None:
    bot.standin.set_profile(LAN, "Lan", "en")
    bot.standin.block(LAN)  # LINE answers 404 for the profile
    _follow(bot, LAN)
    with session_scope(engine) as session:
        person = resident(session, LAN)
        assert person.locale == "ja" and person.followed_at is not None
