"""Declarative conversations; `build_registry` lists every one the bot offers."""

from __future__ import annotations

from bot.flows.registry import Registry


def build_registry() -> Registry:
    """The registry of every flow, trigger word and postback action."""
    from bot.flows import hancho, join, language, officer
    from bot.flows import membership as membership_flows
    from bot.flows import organiser as organiser_flows
    from bot.flows import rsvp as rsvp_flows
    from bot.flows import survey as survey_flows
    from bot.flows import volunteer as volunteer_flows

    registry = Registry()
    registry.add_flow(language.FLOW, "language")
    officer.register(registry)
    join.register(registry)
    membership_flows.register(registry)
    rsvp_flows.register(registry)
    organiser_flows.register(registry)
    survey_flows.register(registry)
    volunteer_flows.register(registry)
    hancho.register(registry)
    return registry
