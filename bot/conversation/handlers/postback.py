"""Postbacks (buttons, chips, pickers) become flow input with their data parsed once."""

from __future__ import annotations

from linebot.v3.webhooks import Event, PostbackEvent

from bot.conversation import postback
from bot.conversation.context import FlowContext
from bot.conversation.engine import FlowInput, Say
from bot.conversation.runner import Runner


def handle(ctx: FlowContext, event: Event, runner: Runner) -> list[Say]:
    """Hand the postback to the runner."""
    assert isinstance(event, PostbackEvent)
    params = dict(event.postback.params or {})
    given = FlowInput("postback", data=postback.decode(event.postback.data), params=params)
    return runner.handle(ctx, given)
