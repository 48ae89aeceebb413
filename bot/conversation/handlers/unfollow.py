"""A resident who blocks the bot is marked unreachable; nothing can be sent back."""

from __future__ import annotations

from linebot.v3.webhooks import Event

from bot.conversation.context import FlowContext
from bot.conversation.engine import Say
from bot.conversation.runner import Runner
from bot.core import residents


def handle(ctx: FlowContext, event: Event, runner: Runner) -> list[Say]:
    """Mark the resident blocked and run unfollow hooks (retention, outbox skips)."""
    residents.mark_unfollowed(ctx.session, ctx.resident, ctx.now)
    for hook in runner.registry.on_unfollow:
        hook(ctx)
    return []
