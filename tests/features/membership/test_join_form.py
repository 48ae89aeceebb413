"""Each typed answer of the application is checked; a bad one gets a clear re-ask."""

from __future__ import annotations

from typing import Any

import pytest

from bot.conversation.engine import FlowInput, Invalid
from bot.features.membership.join_form_flow import (
    parse_household,
    parse_name,
    parse_phone,
    parse_room,
)


def _text(value: str) -> FlowInput:
    return FlowInput("text", text=value)


@pytest.mark.parametrize(
    ("parse", "typed", "expected"),
    [
        (parse_name, "  山田　花子 ", "山田 花子"),  # full-width space, trimmed
        (parse_name, "Hanako Yamada", "Hanako Yamada"),
        (parse_household, "３人", "3"),
        (parse_household, "12", "12"),
        (parse_phone, "０１９－１２３－４５６７", "0191234567"),
        (parse_phone, "(090) 1234 5678", "09012345678"),
        (parse_room, "コーポ上田　２０１", "コーポ上田 201"),
    ],
)
def test_accepted(parse: Any, typed: str, expected: str) -> None:
    assert parse(_text(typed), {}, None) == expected


@pytest.mark.parametrize(
    ("parse", "typed", "reason"),
    [
        (parse_name, "12345", "join.name_invalid"),
        (parse_name, "https://example.com", "join.name_invalid"),
        (parse_name, "あ" * 41, "join.name_invalid"),
        (parse_name, "つながりで町内会に参加します #K7P2QX9M", "join.name_invalid"),
        (parse_household, "0", "join.household_invalid"),
        (parse_household, "21", "join.household_invalid"),
        (parse_household, "たくさん", "join.household_invalid"),
        (parse_phone, "123-4567", "join.phone_invalid"),
        (parse_phone, "0120-12-34", "join.phone_invalid"),
        (parse_phone, "1234567890", "join.phone_invalid"),
        (parse_room, "x" * 41, "join.room_invalid"),
    ],
)
def test_refused(parse: Any, typed: str, reason: str) -> None:
    with pytest.raises(Invalid) as refused:
        parse(_text(typed), {}, None)
    assert refused.value.reason_key == reason
