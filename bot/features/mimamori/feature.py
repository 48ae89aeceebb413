"""見守り's record: what it adds to the bot (see bot/feature.py)."""

from bot.feature import Feature
from bot.features.mimamori import checkin_flow, jobs, watches

FEATURE = Feature(
    name="mimamori",
    flows=checkin_flow.register,
    jobs=jobs.jobs,
    erasers=(watches.forget,),
)
