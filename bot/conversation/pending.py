"""A reply waiting for its event's transaction to commit (the processor's and the batches')."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PendingReply:
    """Messages to send once the event's transaction has committed."""

    event_id: str
    reply_token: str | None
    user_id: str | None
    messages: list[dict[str, Any]]
    after_commit: list[Any]
