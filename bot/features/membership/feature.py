"""The membership feature's record: what it adds to the bot (see bot/feature.py)."""

from bot.conversation.registry import Registry
from bot.feature import Feature
from bot.features.membership import (
    catalogs,
    invitations,
    jobs,
    join_flow,
    membership_flow,
    officer_flow,
)
from bot.features.membership.staff import api as staff_api
from bot.features.membership.staff import qr_routes
from bot.features.membership.staff import routes as staff_routes


def _flows(registry: Registry) -> None:
    officer_flow.register(registry)
    join_flow.register(registry)
    membership_flow.register(registry)


FEATURE = Feature(
    name="membership",
    flows=_flows,
    jobs=jobs.jobs,
    erasers=(invitations.forget,),
    staff_routers=(staff_routes.router, qr_routes.router),
    api_routers=(staff_api.router,),
    nav=(*staff_routes.NAV, *qr_routes.NAV),
    catalogs=(catalogs.check_templates,),
)
