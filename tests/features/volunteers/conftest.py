"""Volunteering asks the events feature which events an opportunity may help, through
bot/core/hooks.

Until events' FEATURE declares these answerers (bot/features/events/feature.py), install them
here; `hooks.install` is idempotent, so this stays harmless once it does.
"""

from __future__ import annotations

from bot.core import hooks
from bot.features.events import for_volunteers

hooks.install(
    [
        hooks.Subscriptions(
            upcoming_events=(for_volunteers.upcoming_events,),
            events_by_id=(for_volunteers.events_by_id,),
        )
    ]
)
