"""Correcting one answer of the application, as dialog tables: 修正する asks which answer,
asks only that one (the town too) and comes back to the summary; 戻る goes one question
back; 「ふたり」 is a household of two. The usability test found 修正する restarting at the
name, the town impossible to correct, and 戻る from the name jumping to the summary."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.core.models.membership import Membership
from bot.db import session_scope
from tests.factories import follow_event
from tests.features.membership.join_support import code_message, counter_code, key_of, seed_city
from tests.harness import text_of

ALICE = "U" + "a1" * 16
QR = "<the counter's QR>"

TO_THE_SUMMARY: list[tuple[str, str, str]] = [
    ("follow", "", "common.greeting + join.invite"),
    ("say", QR, "join.consent_ask"),
    ("tap", "同意する", "join.district_ask"),
    ("tap", "上田", "join.town_ask"),
    ("say", "上田3丁目", "join.name_ask"),
    ("say", "山田 花子", "join.household_ask"),
    ("say", "ふたり", "join.room_ask"),  # a number as a word
    ("tap", "なし", "join.contact_ask"),
    ("tap", "LINE", "join.summary"),
]

FIX_TOWN_THEN_ROOM = [
    *TO_THE_SUMMARY,
    ("tap", "修正する", "join.fix_ask"),
    ("tap", "町名", "join.town_ask"),  # the town can be corrected, in the same district
    ("say", "上田", "join.town_choice_ask"),
    ("tap", "上田一丁目", "join.summary"),  # straight back to the summary
    ("tap", "修正する", "join.fix_ask"),
    ("tap", "部屋番号", "join.room_ask"),
    ("say", "コーポ上田 202", "join.summary"),
    ("tap", "送信する", "join.applied"),
]

BACK_ONE_STEP_AT_A_TIME = [
    *TO_THE_SUMMARY,
    ("tap", "修正する", "join.fix_ask"),
    ("tap", "お名前", "join.name_ask"),
    ("say", "戻る", "join.fix_ask"),  # one step back: which answer to correct
    ("say", "戻る", "join.summary"),  # and the summary before it
    ("tap", "修正する", "join.fix_ask"),
    ("tap", "人数", "join.household_ask"),
    ("say", "三人", "join.summary"),
    ("say", "戻る", "join.household_ask"),  # the answer just given, asked again
    ("say", "戻る", "join.fix_ask"),
    ("say", "戻る", "join.summary"),  # the household answer is missing now…
    ("tap", "送信する", "join.household_ask"),  # …so sending asks it first
    ("say", "three", "join.summary"),
    ("tap", "送信する", "join.applied"),
]


def _play(bot: Any, engine: Engine, table: list[tuple[str, str, str]]) -> list[str]:
    code = counter_code(engine, "counter-morioka", datetime.now(UTC))
    content = bot.app.state.content
    answered: list[str] = []
    for does, given, _expected in table:
        before = len(bot.standin.messages_to(ALICE))
        if does == "follow":
            bot.post(follow_event(ALICE))
            bot.drain()
        elif does == "say":
            bot.say(ALICE, code_message(bot, code) if given == QR else given)
        else:
            bot.tap(ALICE, given)
        new = bot.standin.messages_to(ALICE)[before:]
        answered.append(" + ".join(str(key_of(content, text_of(m))) for m in new))
    return answered


@pytest.mark.parametrize(
    ("table", "saved"),
    [
        (FIX_TOWN_THEN_ROOM, ("上田一丁目", 2, "コーポ上田 202", "山田 花子")),
        (BACK_ONE_STEP_AT_A_TIME, ("上田三丁目", 3, None, "山田 花子")),
    ],
    ids=["fix the town then the room", "back one step at a time"],
)
def test_correcting_one_answer(
    bot: Any, engine: Engine, table: list[tuple[str, str, str]], saved: tuple[Any, ...]
) -> None:
    seed_city(engine)
    assert _play(bot, engine, table) == [expected for _, _, expected in table]
    with session_scope(engine) as session:
        row = session.execute(select(Membership)).scalar_one()
        assert (row.town_label, row.household_size, row.room, row.full_name) == saved


def test_the_summary_after_a_fix_shows_the_new_answer(bot: Any, engine: Engine) -> None:
    seed_city(engine)
    _play(bot, engine, FIX_TOWN_THEN_ROOM[:-1])
    summary = text_of(bot.last(ALICE))
    assert "上田一丁目" in summary and "コーポ上田 202" in summary and "2人" in summary
