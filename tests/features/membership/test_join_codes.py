"""Join codes: unguessable, found anywhere in an edited message, retired or unknown handled."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot.db import session_scope
from bot.features.membership import join_codes
from bot.features.membership.join_codes import ALPHABET, LENGTH, Found
from bot.features.membership.models import JoinCodeKind, ResidentSource
from tests.features.membership.join_support import (
    association_code,
    association_name,
    code_message,
    counter_code,
    seed_city,
)

ALICE = "U" + "a1" * 16
T0 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def test_codes_are_random_from_an_unambiguous_alphabet() -> None:
    codes = {join_codes.new_code() for _ in range(2000)}
    assert len(codes) == 2000  # no repeats in a small sample
    assert all(len(c) == LENGTH and set(c) <= set(ALPHABET) for c in codes)
    assert not set("01OIL") & set(ALPHABET)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("つながりで町内会に参加します #K7P2QX9M", [("K7P2QX9M", True)]),
        ("参加します＃ｋ７ｐ２ｑｘ９ｍ です", [("K7P2QX9M", True)]),  # full width, lower case
        ("K7P2QX9M", [("K7P2QX9M", True)]),  # the mark deleted: digits and letters remain
        ("Hello NEIGHBOUR", []),  # 9 letters: not a code
        ("HAPPYDAY everyone", [("HAPPYDAY", False)]),  # looked up, never called unknown
        ("電話 09012345678", []),
        ("#K7P2QX9MX", []),  # one character too many
    ],
)
def test_candidates_in_untrusted_text(text: str, expected: list[tuple[str, bool]]) -> None:
    assert join_codes.candidates(text) == expected


def test_recognise_prefers_a_live_code(engine: Engine) -> None:
    seed_city(engine)
    old = counter_code(engine, "counter-morioka", T0)
    new = counter_code(engine, "counter-morioka", T0)
    with session_scope(engine) as session:
        assert join_codes.retire(session, old, T0)
        assert not join_codes.retire(session, old, T0)  # once
        found = join_codes.recognise(session, f"#{old} #{new}")
        assert found.found == Found.ACTIVE and found.code and found.code.code == new
        assert join_codes.recognise(session, f"#{old}").found == Found.RETIRED
        assert join_codes.recognise(session, "#ZZZZ2345").found == Found.UNKNOWN
        assert join_codes.recognise(session, "HAPPYDAY").found == Found.NONE
        with pytest.raises(ValueError):
            join_codes.create(session, kind=JoinCodeKind.COUNTER, now=T0)


def test_retired_code_gets_a_polite_answer_and_the_normal_flow(bot: Any, engine: Engine) -> None:
    seed_city(engine)
    code = counter_code(engine, "counter-morioka", T0)
    with session_scope(engine) as session:
        join_codes.retire(session, code, T0)
    bot.say(ALICE, code_message(bot, code))
    texts = bot.texts_to(ALICE)
    assert "現在使われていません" in texts[-2]
    assert "個人情報の取り扱い" in texts[-1]
    with session_scope(engine) as session:
        assert session.execute(select(func.count()).select_from(ResidentSource)).scalar() == 0
    bot.tap(ALICE, "同意する")
    assert "お住まいの地域を選んでください" in bot.texts_to(ALICE)[-1]  # no counter: no ward


def test_unknown_code_gets_a_polite_answer(bot: Any, engine: Engine) -> None:
    seed_city(engine)
    bot.say(ALICE, "つながりで町内会に参加します #ZZZZ2345")
    assert "読み取れませんでした" in bot.texts_to(ALICE)[-2]
    assert "同意する" in [i["action"]["label"] for i in bot.last(ALICE)["quickReply"]["items"]]


def test_association_poster_goes_straight_to_the_form(bot: Any, engine: Engine) -> None:
    seed_city(engine)
    code = association_code(engine, "A0101", T0)
    bot.say(ALICE, code_message(bot, code))
    bot.tap(ALICE, "同意する")
    assert association_name(engine, "A0101") in bot.texts_to(ALICE)[-1]
    bot.tap(ALICE, "この町内会に申し込む")
    assert "お名前" in bot.texts_to(ALICE)[-1]


def test_scanning_twice_records_the_source_once(bot: Any, engine: Engine) -> None:
    seed_city(engine)
    code = counter_code(engine, "counter-morioka", T0)
    bot.say(ALICE, code_message(bot, code))
    bot.say(ALICE, "キャンセル")
    bot.say(ALICE, code_message(bot, code))
    with session_scope(engine) as session:
        assert session.execute(select(func.count()).select_from(ResidentSource)).scalar() == 1
