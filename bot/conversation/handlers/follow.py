"""A new friend is greeted with the menu; an unblocking friend is welcomed back."""

from __future__ import annotations

from linebot.v3.webhooks import Event, FollowEvent

from bot.conversation.context import FlowContext
from bot.conversation.engine import Say
from bot.conversation.menu import main_menu
from bot.conversation.runner import Runner
from bot.core import residents


def handle(ctx: FlowContext, event: Event, runner: Runner) -> list[Say]:
    """Record the follow, run follow hooks, then greet."""
    assert isinstance(event, FollowEvent)
    unblocked = bool(event.follow and event.follow.is_unblocked)
    residents.mark_followed(ctx.session, ctx.resident, ctx.now)
    extra: list[Say] = []
    for hook in runner.registry.on_follow:
        extra.extend(hook(ctx))
    greeting = Say("common.welcome_back" if unblocked else "common.greeting")
    return [greeting, *extra] if extra else [greeting, main_menu(ctx)]
