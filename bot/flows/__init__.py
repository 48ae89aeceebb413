"""Declarative conversations; `build_registry` lists every one the bot offers."""

from __future__ import annotations

from bot.flows.registry import Registry


def build_registry() -> Registry:
    """The registry of every flow, trigger word and postback action."""
    from bot.flows import language

    registry = Registry()
    registry.add_flow(language.FLOW, "language")
    return registry
