"""The features: one folder each, on the shared core; this package lists them all.

Importing it registers every table on SQLModel's metadata (migrations and tests rely on it).
"""

from __future__ import annotations

from bot.conversation.registry import Registry
from bot.features import tables as _tables  # noqa: F401 - every table on the metadata


def build_registry() -> Registry:
    """The registry of every flow, trigger word and postback action."""
    from bot.conversation import language
    from bot.features.events import organiser_flow as organiser_flows
    from bot.features.events import rsvp_flow as rsvp_flows
    from bot.features.hancho import hancho_flow as hancho
    from bot.features.membership import join_flow as join
    from bot.features.membership import membership_flow as membership_flows
    from bot.features.membership import officer_flow as officer
    from bot.features.surveys import survey_flow as survey_flows
    from bot.features.volunteers import volunteer_flow as volunteer_flows

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


# ---- from bot.features
"""Business rules and queries, shared by the bot and the staff web; no LINE, no HTTP."""
