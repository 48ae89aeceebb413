"""The join flow as a dialog table: what the resident does, and the content key of the bot's
answer (the words live in content/messages; the table is the conversation's shape).

From a moving-in counter's QR to a sent application, through the real webhook and the
stand-in, on the sample city. `say` types a text, `tap` taps a chip or button by its label.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.core.models.membership import Membership, MembershipStatus
from bot.db import session_scope
from tests.factories import follow_event
from tests.features.membership.join_support import code_message, counter_code, key_of, seed_city
from tests.harness import text_of

ALICE = "U" + "a1" * 16
QR = "<the counter's QR>"  # stands for the message the QR types in

JOIN_BY_COUNTER_QR: list[tuple[str, str, str]] = [
    # (resident does, with, bot answers with: the content key of each message, joined by " + ")
    ("follow", "", "common.greeting + join.invite"),
    ("say", QR, "join.consent_ask"),
    ("tap", "同意する", "join.district_ask"),  # the counter knows the ward: district first
    ("tap", "上田", "join.town_ask"),
    ("say", "上田", "join.town_choice_ask"),  # no 丁目: several towns match
    ("tap", "上田三丁目", "join.name_ask"),
    ("say", "山田 花子", "join.household_ask"),
    ("tap", "3人", "join.room_ask"),
    ("say", "コーポ上田 201", "join.contact_ask"),
    ("tap", "電話", "join.phone_ask"),
    ("say", "０１９－１２３－４５６７", "join.summary"),  # full width is fine
    ("tap", "送信する", "join.applied"),
]

DECLINE_CONSENT: list[tuple[str, str, str]] = [
    ("follow", "", "common.greeting + join.invite"),
    ("say", QR, "join.consent_ask"),
    ("tap", "同意しない", "join.declined"),
]

ADDRESS_TYPED_PHONE_MISTYPED: list[tuple[str, str, str]] = [
    ("follow", "", "common.greeting + join.invite"),
    ("say", QR, "join.consent_ask"),
    ("tap", "同意する", "join.district_ask"),
    ("tap", "上田", "join.town_ask"),
    ("say", "上田3丁目", "join.name_ask"),  # one town matches: straight on
    ("say", "山田 花子", "join.household_ask"),
    ("tap", "2人", "join.room_ask"),
    ("tap", "なし", "join.contact_ask"),
    ("tap", "電話", "join.phone_ask"),
    ("say", "でんわ", "join.phone_invalid + join.phone_ask"),  # not a number: asked again
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
    "table",
    [JOIN_BY_COUNTER_QR, DECLINE_CONSENT, ADDRESS_TYPED_PHONE_MISTYPED],
    ids=["join by counter QR", "consent declined", "address typed, phone mistyped"],
)
def test_join_dialog(bot: Any, engine: Engine, table: list[tuple[str, str, str]]) -> None:
    seed_city(engine)
    assert _play(bot, engine, table) == [expected for _, _, expected in table]


def test_the_table_ends_in_one_pending_application(bot: Any, engine: Engine) -> None:
    seed_city(engine)
    _play(bot, engine, JOIN_BY_COUNTER_QR)
    with session_scope(engine) as session:
        row = session.execute(select(Membership)).scalar_one()
        assert (row.status, row.household_size) == (MembershipStatus.PENDING, 3)
        assert (row.full_name, row.phone) == ("山田 花子", "0191234567")
