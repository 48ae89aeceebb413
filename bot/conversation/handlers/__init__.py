"""The only routing table: which handler answers which LINE event."""

from __future__ import annotations

from collections.abc import Callable

from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    MessageEvent,
    PostbackEvent,
    UnfollowEvent,
)

from bot.conversation.context import FlowContext
from bot.conversation.engine import Say
from bot.conversation.handlers import follow, message, postback, unfollow
from bot.conversation.runner import Runner

Handler = Callable[[FlowContext, Event, Runner], list[Say]]

ROUTES: dict[type[Event], Handler] = {
    FollowEvent: follow.handle,
    UnfollowEvent: unfollow.handle,
    MessageEvent: message.handle,
    PostbackEvent: postback.handle,
}


def route(event: Event) -> Handler | None:
    """The handler for an event, or None for events the bot ignores (read receipts, …)."""
    return ROUTES.get(type(event))
