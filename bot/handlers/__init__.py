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

from bot.flows.context import FlowContext
from bot.flows.engine import Say
from bot.flows.runner import Runner
from bot.handlers import follow, message, postback, unfollow

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
