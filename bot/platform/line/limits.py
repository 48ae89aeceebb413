"""LINE's documented message limits, checked before a request leaves the bot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

MAX_MESSAGES_PER_CALL = 5
MAX_MULTICAST_RECIPIENTS = 500
MAX_TEXT_LENGTH = 5000
MAX_QUICK_REPLY_ITEMS = 13
MAX_ACTION_LABEL = 20
MAX_POSTBACK_DATA = 300
MAX_ALT_TEXT = 1500


class LimitError(ValueError):
    """Content would break one of LINE's limits; LINE would refuse the whole request."""


def check_messages(messages: Sequence[Mapping[str, Any]]) -> None:
    """Raise LimitError naming the first broken limit."""
    if not messages:
        raise LimitError("no messages to send")
    if len(messages) > MAX_MESSAGES_PER_CALL:
        raise LimitError(f"{len(messages)} messages in one call (LINE allows 5)")
    for index, message in enumerate(messages):
        _check_message(index, message)


def check_recipients(to: Sequence[str]) -> None:
    """A multicast carries 1 to 500 recipients."""
    if not 1 <= len(to) <= MAX_MULTICAST_RECIPIENTS:
        raise LimitError(f"{len(to)} recipients in one multicast (LINE allows 1-500)")


def _check_message(index: int, message: Mapping[str, Any]) -> None:
    where = f"message {index}"
    if message.get("type") == "text" and len(message.get("text", "")) > MAX_TEXT_LENGTH:
        raise LimitError(f"{where}: text longer than {MAX_TEXT_LENGTH} characters")
    if len(message.get("altText", "")) > MAX_ALT_TEXT:
        raise LimitError(f"{where}: altText longer than {MAX_ALT_TEXT} characters")
    items = (message.get("quickReply") or {}).get("items", [])
    if len(items) > MAX_QUICK_REPLY_ITEMS:
        raise LimitError(f"{where}: {len(items)} quick reply items (LINE allows 13)")
    for action in _actions(message):
        _check_action(where, action)


def _check_action(where: str, action: Mapping[str, Any]) -> None:
    label = action.get("label")
    if label is not None and len(label) > MAX_ACTION_LABEL:
        raise LimitError(f"{where}: action label {label!r} longer than {MAX_ACTION_LABEL}")
    data = action.get("data")
    if data is not None and len(data) > MAX_POSTBACK_DATA:
        raise LimitError(f"{where}: postback data longer than {MAX_POSTBACK_DATA}")


def _actions(node: Any, found: list[Mapping[str, Any]] | None = None) -> list[Mapping[str, Any]]:
    """Every action object nested anywhere in a message."""
    found = [] if found is None else found
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in ("action", "defaultAction") and isinstance(value, Mapping):
                found.append(value)
            elif key == "actions" and isinstance(value, list):
                found.extend(v for v in value if isinstance(v, Mapping))
            if not isinstance(value, str | int | bool | float):  # leaves hold no actions
                _actions(value, found)
    elif isinstance(node, list):
        for item in node:
            _actions(item, found)
    return found
