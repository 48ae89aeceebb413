"""The household register's record: what it adds to the bot (see bot/feature.py)."""

from pathlib import Path

from bot.core import households as register
from bot.core.hooks import Subscriptions
from bot.core.scope import Permission
from bot.feature import Feature
from bot.features.households import hancho_flow, public_routes
from bot.features.households.staff import routes
from bot.staff.web import NavItem

FEATURE = Feature(
    name="households",
    flows=hancho_flow.register,
    staff_routers=(routes.router,),
    public_routers=(public_routes.router,),
    nav=(NavItem("nav.households", "/staff/households", Permission.VIEW_MEMBERS, 25),),
    templates=Path(__file__).parent / "staff" / "templates",
    subscriptions=Subscriptions(
        # A household whose last LINE member left goes back to paper (or leaves the register).
        membership_changed=(register.on_membership_changed,),
    ),
)
