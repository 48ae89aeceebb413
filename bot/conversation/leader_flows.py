"""What the 班長's LINE flows share (ticking paper rounds, entering RSVPs for households
without LINE): who may use them, and how they end politely when there is nothing to pick."""

from __future__ import annotations

from typing import Any

from bot.conversation.context import FlowContext
from bot.conversation.engine import Data, Option, Say
from bot.conversation.replies import with_menu
from bot.core import han
from bot.core.models.han import HanLeader


def leader_of(ctx: FlowContext) -> HanLeader | None:
    """The resident's live 班長 role, if they lead a 班."""
    return han.leadership_of(ctx.session, ctx.resident.id)


def initial_with(listing: Any) -> Any:
    """Flow data to start with: the leader's id (None: not a 班長) and whether there is
    anything to pick, so an empty list ends the flow with a sentence instead of no chips."""

    def initial(ctx: FlowContext, args: Any) -> Data:
        leader = leader_of(ctx)
        return {
            "leader": leader.id if leader else None,
            "choices": bool(leader and listing({}, ctx)),
        }

    return initial


def nothing_to_pick(data: Data, ctx: Any) -> bool:
    """Skip the first question: not a 班長, or nothing to pick."""
    return data.get("leader") is None or not data.get("choices")


def first_next(following: str) -> Any:
    """After the first question: `following`, unless there was nothing to pick."""
    return lambda answer, data: None if nothing_to_pick(data, None) else following


def cannot_start(
    ctx: FlowContext, data: Data, leader: HanLeader | None, picked: str, empty_key: str
) -> list[Say] | None:
    """Why the flow ended before anything was picked (not a 班長, or nothing to pick)."""
    if leader is None:
        return [with_menu(ctx, "hancho.leaders_only")]
    if data.get(picked) is None:
        return [with_menu(ctx, empty_key)]
    return None


def yes_no() -> tuple[Option, ...]:
    """記録する / 記録しない on the confirmation."""
    return (Option("hancho.record", "yes"), Option("hancho.dont_record", "no"))
