"""What a flow or handler may use while handling one event: one transaction, one resident."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.content import Content
from bot.conversation.notifier import Notifier
from bot.core.models.residents import Resident
from bot.settings import Settings


@dataclass
class FlowContext:
    """Dependencies of one handled event; flows receive it as their `ctx`."""

    session: Session
    resident: Resident
    content: Content
    settings: Settings
    now: datetime
    # Work to run after the transaction commits (e.g. wake the delivery sender).
    after_commit: list[Callable[[], Any]] = field(default_factory=list)
    # Pushes to other residents (an officer told of an application, …); the processor hands
    # in its own, a context built without one gets one over the same content and settings.
    notifier: Notifier = field(default=None)  # type: ignore[assignment]  # set in __post_init__

    def __post_init__(self) -> None:
        if self.notifier is None:
            self.notifier = Notifier.build(self.content, self.settings)

    @property
    def locale(self) -> str:
        """The resident's chosen language."""
        return self.resident.locale
