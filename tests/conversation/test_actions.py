"""Typed postback actions: encoded once, decoded with checks, forged payloads refused."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.conversation import postback
from bot.conversation.actions import Action, Forged, wire


@dataclass(frozen=True)
class Tap(Action, prefix="tap"):
    event_id: int = wire("e")
    answer: str = wire("v", choices=("yes", "no"))
    note: str | None = wire("n", default=None)


def test_an_action_round_trips_through_its_postback_data() -> None:
    data = Tap(42, "yes").encode()
    assert data == "a=tap&e=42&v=yes"
    assert Tap.decode(postback.decode(data)) == Tap(42, "yes")
    assert Tap.decode(postback.decode(Tap(7, "no", "x").encode())).note == "x"


@pytest.mark.parametrize(
    "data",
    [
        "a=other&e=42&v=yes",  # another action's payload
        "a=tap&v=yes",  # a field missing
        "a=tap&e=forty&v=yes",  # not a number
        "a=tap&e=-1&v=yes",  # not an id
        "a=tap&e=99999999999999999999&v=yes",  # past any row id
        "a=tap&e=４２&v=yes",  # full-width digits are not ours
        "a=tap&e=42&v=maybe",  # not one of the choices
        "a=tap&e=42&v=yes&n=" + "x" * 201,  # longer than any of ours
    ],
)
def test_a_forged_payload_is_refused(data: str) -> None:
    with pytest.raises(Forged):
        Tap.decode(postback.decode(data))


def test_data_longer_than_line_allows_cannot_be_built() -> None:
    with pytest.raises(ValueError):
        Tap(1, "yes", "x" * 400).encode()
