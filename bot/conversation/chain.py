"""Start one flow from the end of another (consent → application), in the same reply."""

from __future__ import annotations

from collections.abc import Mapping

from bot.conversation import engine
from bot.conversation.context import FlowContext
from bot.conversation.engine import Flow, Say
from bot.conversation.store import save_state


def start_flow(ctx: FlowContext, flow: Flow, args: Mapping[str, str] | None = None) -> list[Say]:
    """Begin `flow` for the resident as the runner would, returning its first question.

    Called from an `on_complete`, after the runner has cleared the finished flow's state.
    """
    user_id = ctx.resident.line_user_id
    if user_id is None:
        raise ValueError("resident without a LINE user id cannot converse")
    outcome = engine.start(flow, ctx, ctx.now, args)
    save_state(ctx.session, user_id, outcome.state, ctx.now)
    replies = list(outcome.replies)
    if outcome.completed is not None:
        replies.extend(flow.on_complete(ctx, outcome.completed))
    return replies
