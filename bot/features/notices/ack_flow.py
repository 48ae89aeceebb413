"""確認しました in LINE: the button at the end of a notice that asks for acknowledgement.

Postback action (outside flows): `a=ack&n=<notice>`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.conversation.actions import Action, wire
from bot.conversation.context import FlowContext
from bot.conversation.engine import Say
from bot.conversation.registry import Registry
from bot.features.notices import notices


@dataclass(frozen=True)
class AckTap(Action, prefix="ack"):
    """確認しました at the end of a notice."""

    notice_id: int = wire("n")


def register(registry: Registry) -> None:
    """Add the acknowledgement action."""
    registry.on(AckTap, on_ack)


def on_ack(ctx: FlowContext, tap: AckTap) -> list[Say]:
    """確認しました on a notice."""
    outcome = notices.acknowledge(
        ctx.session, notice_id=tap.notice_id, resident_id=int(ctx.resident.id or 0), now=ctx.now
    )
    return [Say(f"notices.ack_{outcome}")]
