"""Surveys ask the events feature which events ended and who came, through bot/core/hooks.

Until events' FEATURE declares these answerers (bot/features/events/feature.py), install them
here; `hooks.install` is idempotent, so this stays harmless once it does.
"""

from __future__ import annotations

from bot.core import hooks
from bot.features.events import for_surveys

hooks.install(
    [
        hooks.Subscriptions(
            ended_events=(for_surveys.ended_events,),
            event_attendees=(for_surveys.checked_in,),
        )
    ]
)
