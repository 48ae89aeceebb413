"""SDK request models that carry the bot's message dicts as they are.

The bot builds every message as a JSON-ready dict and checks it against LINE's limits
(`bot.platform.line.limits`) before sending. Handing such dicts to the SDK the usual way
(`ReplyMessageRequest.from_dict`) parses them into pydantic models only for the SDK to turn
them back into the same dicts: ≈2 ms of CPU per call, more than handling the event itself.
These subclasses are built with `construct()` and serialise to the dicts unchanged, while
the SDK's client still does everything else (auth, headers, retry key, errors). Tests send
every request through the LINE stand-in, which checks it against LINE's OpenAPI spec.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from linebot.v3.messaging import (
    AsyncApiClient,
    Configuration,
    MulticastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
)


class _AsSent:
    """Serialises a request model's fields under LINE's names, values untouched."""

    __fields__: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The request body as sent; unset fields are left out, as the SDK does."""
        return {
            field.alias: value
            for name, field in self.__fields__.items()
            if (value := getattr(self, name, None)) is not None
        }


class PreparedApiClient(AsyncApiClient):
    """The SDK's client, taking a prepared request's body as it is.

    The SDK walks every nested value of a body to make it JSON-ready; a prepared one is
    JSON-ready already, and a reply with quick-reply chips is some 60 values deep: that walk
    cost more than the rest of the call's Python (a profile of a surge of safety answers).
    """

    def __init__(self, configuration: Configuration) -> None:
        super().__init__(configuration)  # type: ignore[no-untyped-call]  # the SDK's, untyped

    def sanitize_for_serialization(self, obj: Any) -> Any:
        """A prepared request's dict as it is; anything else as the SDK serialises it."""
        if isinstance(obj, _AsSent):
            return obj.to_dict()
        return super().sanitize_for_serialization(obj)  # type: ignore[no-untyped-call]


class PreparedReply(_AsSent, ReplyMessageRequest):
    """A reply whose messages are checked dicts."""


class PreparedPush(_AsSent, PushMessageRequest):
    """A push whose messages are checked dicts."""


class PreparedMulticast(_AsSent, MulticastRequest):
    """A multicast whose messages are checked dicts and recipients a checked list."""


def reply_request(reply_token: str, messages: Sequence[dict[str, Any]]) -> PreparedReply:
    """A reply request for already checked messages."""
    return PreparedReply.construct(reply_token=reply_token, messages=list(messages))


def push_request(to: str, messages: Sequence[dict[str, Any]]) -> PreparedPush:
    """A push request for already checked messages."""
    return PreparedPush.construct(to=to, messages=list(messages))


def multicast_request(to: Sequence[str], messages: Sequence[dict[str, Any]]) -> PreparedMulticast:
    """A multicast request for already checked recipients and messages."""
    return PreparedMulticast.construct(to=list(to), messages=list(messages))
