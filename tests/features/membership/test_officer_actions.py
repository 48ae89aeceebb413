"""Officers' buttons are typed actions: the buttons they are sent decode back, and a forged
or stale payload gets the polite stale-button answer and decides nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.core.models.membership import Membership, MembershipStatus
from bot.db import session_scope
from bot.features.membership.officer_flow import DecideTap, DetailTap, PendingTap
from tests.factories import postback_event
from tests.features.membership.join_support import (
    apply_through_chat,
    counter_code,
    key_of,
    link_officer,
    seed_city,
)
from tests.harness import text_of

ALICE = "U" + "a1" * 16
OFFICER = "U" + "0f" * 16


def test_the_wire_format_is_unchanged() -> None:
    # Buttons already pushed (in the outbox, in officers' chats) keep working.
    assert DecideTap(7, "ok").encode() == "a=jd&m=7&d=ok"
    assert DetailTap(7).encode() == "a=jv&m=7"
    assert PendingTap().encode() == "a=jp"
    assert DecideTap.decode({"a": "jd", "m": "7", "d": "no"}) == DecideTap(7, "no")


@pytest.mark.parametrize(
    "data",
    ["a=jd&m=1&d=maybe", "a=jd&m=x&d=ok", "a=jd&d=ok", "a=jv&m=0", "a=jv&m=99999999999"],
    ids=["unknown decision", "id not a number", "id missing", "id zero", "id too large"],
)
def test_a_forged_tap_decides_nothing(bot: Any, engine: Engine, data: str) -> None:
    seed_city(engine)
    link_officer(bot, engine, OFFICER, "A0302", datetime.now(UTC))
    apply_through_chat(
        bot, engine, ALICE, counter_code(engine, "counter-morioka", datetime.now(UTC))
    )
    bot.deliver()
    assert bot.post(postback_event(OFFICER, data)).status_code == 200
    bot.drain()
    content = bot.app.state.content
    answers = [key_of(content, text_of(m)) for m in bot.standin.messages_to(OFFICER)[-2:]]
    assert answers[0] == "common.stale_button"
    with session_scope(engine) as session:
        assert session.execute(select(Membership.status)).scalar_one() == MembershipStatus.PENDING
    bot.tap(OFFICER, "承認する")  # the real button still works
    with session_scope(engine) as session:
        assert session.execute(select(Membership.status)).scalar_one() == MembershipStatus.APPROVED
