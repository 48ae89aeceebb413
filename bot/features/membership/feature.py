"""The membership feature's record: what it adds to the bot (see bot/feature.py)."""

from pathlib import Path

from bot.conversation.registry import Registry
from bot.core.hooks import Subscriptions
from bot.core.scope import Permission
from bot.feature import Feature
from bot.features.membership import (
    arrivals,
    catalogs,
    invitations,
    jobs,
    join_flow,
    membership_flow,
    officer_flow,
)
from bot.features.membership.staff import api as staff_api
from bot.features.membership.staff import council as staff_council
from bot.features.membership.staff import officer_routes, qr_routes
from bot.features.membership.staff import routes as staff_routes
from bot.staff.web import NavItem


def _flows(registry: Registry) -> None:
    officer_flow.register(registry)
    join_flow.register(registry)
    membership_flow.register(registry)


FEATURE = Feature(
    name="membership",
    flows=_flows,
    jobs=jobs.jobs,
    erasers=(invitations.forget,),
    nav=(
        NavItem("nav.overview", "/staff/", Permission.VIEW_TALLIES, 10),
        NavItem("nav.qr", "/staff/qr", Permission.PRINT_QR, 60),
        NavItem("nav.members", "/staff/members", Permission.VIEW_MEMBERS, 20),
        NavItem("nav.pending", "/staff/pending", Permission.VIEW_APPLICATIONS, 21),
        NavItem("nav.funnel", "/staff/funnel", Permission.VIEW_TALLIES, 30),
        NavItem("nav.officers", "/staff/officers", Permission.MANAGE_OFFICERS, 22),
    ),
    templates=Path(__file__).parent / "staff" / "templates",
    staff_routers=(staff_routes.router, qr_routes.router, officer_routes.router),
    api_routers=(staff_api.router,),
    catalogs=(catalogs.check_templates,),
    subscriptions=Subscriptions(
        counter_arrivals=(arrivals.counter_arrivals,),
        council_sections=(staff_council.council_sections,),
    ),
)
