"""見守り's record: what it adds to the bot (see bot/feature.py)."""

from pathlib import Path

from bot.core.scope import Permission
from bot.feature import Feature
from bot.features.mimamori import checkin_flow, jobs, watches
from bot.features.mimamori.staff import routes
from bot.staff.web import NavItem

FEATURE = Feature(
    name="mimamori",
    flows=checkin_flow.register,
    jobs=jobs.jobs,
    erasers=(watches.forget,),
    staff_routers=(routes.router,),
    nav=(NavItem("mimamori.nav", "/staff/mimamori", Permission.VIEW_MEMBERS, 46),),
    templates=Path(__file__).parent / "staff" / "templates",
)
