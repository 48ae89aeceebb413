"""確認しました in LINE: the button at the end of a notice that asks for acknowledgement.

Postback action (outside flows): `a=ack&n=<notice>`.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.conversation.context import FlowContext
from bot.conversation.engine import Say
from bot.conversation.registry import Registry
from bot.features.notices import notices


def register(registry: Registry) -> None:
    """Add the acknowledgement action."""
    registry.actions["ack"] = on_ack


def on_ack(ctx: FlowContext, data: Mapping[str, str]) -> list[Say]:
    """確認しました on a notice."""
    try:
        notice_id = int(data.get("n", "0"))
    except ValueError:
        notice_id = 0
    outcome = notices.acknowledge(
        ctx.session, notice_id=notice_id, resident_id=int(ctx.resident.id or 0), now=ctx.now
    )
    return [Say(f"notices.ack_{outcome}")]
