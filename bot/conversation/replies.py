"""A closing reply that carries the main menu's chips, so a flow ends in one message."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.conversation.context import FlowContext
from bot.conversation.engine import Say
from bot.conversation.menu import menu_items


def with_menu(ctx: FlowContext, key: str, params: Mapping[str, Any] | None = None) -> Say:
    """`key` as text, with the menu (for the resident's role as it is now) as quick replies."""
    return Say(key, params or {}, options=tuple(menu_items(ctx)[:13]))
