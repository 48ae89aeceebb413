"""Messages become flow input: text, a location, or 'something else' (stickers, photos…)."""

from __future__ import annotations

from linebot.v3.webhooks import Event, LocationMessageContent, MessageEvent, TextMessageContent

from bot.conversation.context import FlowContext
from bot.conversation.engine import FlowInput, Say
from bot.conversation.runner import Runner


def handle(ctx: FlowContext, event: Event, runner: Runner) -> list[Say]:
    """Hand the message to the runner."""
    assert isinstance(event, MessageEvent)
    return runner.handle(ctx, to_input(event))


def to_input(event: MessageEvent) -> FlowInput:
    """Reduce a LINE message to what flows understand."""
    content = event.message
    if isinstance(content, TextMessageContent):
        return FlowInput("text", text=content.text)
    if isinstance(content, LocationMessageContent):
        return FlowInput(
            "location",
            latitude=content.latitude,
            longitude=content.longitude,
            address=content.address,
        )
    return FlowInput("other")
