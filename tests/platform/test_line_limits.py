"""LINE's limits are checked before anything leaves the bot."""

from __future__ import annotations

import pytest

from bot.platform.line.limits import LimitError, check_messages, check_recipients
from bot.platform.line.signature import is_valid, sign


def _text(text: str = "hi", **extra: object) -> dict[str, object]:
    return {"type": "text", "text": text, **extra}


@pytest.mark.parametrize(
    ("messages", "problem"),
    [
        ([], "no messages"),
        ([_text()] * 6, "6 messages"),
        ([_text("あ" * 5001)], "longer than 5000"),
        (
            [
                _text(
                    quickReply={
                        "items": [
                            {
                                "type": "action",
                                "action": {"type": "message", "label": "x", "text": "x"},
                            }
                        ]
                        * 14
                    }
                )
            ],
            "14 quick reply items",
        ),
        (
            [
                _text(
                    quickReply={
                        "items": [
                            {
                                "type": "action",
                                "action": {"type": "postback", "label": "あ" * 21, "data": "x"},
                            }
                        ]
                    }
                )
            ],
            "longer than 20",
        ),
        (
            [
                {
                    "type": "template",
                    "altText": "a",
                    "template": {
                        "type": "buttons",
                        "text": "t",
                        "actions": [{"type": "postback", "label": "ok", "data": "d" * 301}],
                    },
                }
            ],
            "postback data",
        ),
    ],
)
def test_limits_refuse_what_line_would(messages: list[dict[str, object]], problem: str) -> None:
    with pytest.raises(LimitError, match=problem):
        check_messages(messages)


def test_limits_accept_the_edge() -> None:
    check_messages([_text("あ" * 5000)] * 5)
    check_recipients(["U" + "0" * 32] * 500)
    with pytest.raises(LimitError):
        check_recipients(["U" + "0" * 32] * 501)


def test_signature_round_trip_and_refusals() -> None:
    raw = b'{"events":[]}'
    assert is_valid(raw, sign(raw, "s"), "s")
    assert not is_valid(raw, sign(raw, "s"), "t")
    assert not is_valid(raw, None, "s")
    assert not is_valid(raw, sign(raw, ""), "")
