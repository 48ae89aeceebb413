"""The hancho feature's record: what it adds to the bot (see bot/feature.py)."""

from bot.feature import Feature
from bot.features.hancho import hancho_flow, leaders

FEATURE = Feature(name="hancho", flows=hancho_flow.register, erasers=(leaders.forget,))
