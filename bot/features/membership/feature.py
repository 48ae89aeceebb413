"""The membership feature's record: what it adds to the bot (see bot/feature.py)."""

from bot.conversation.registry import Registry
from bot.core.hooks import Subscriptions
from bot.feature import Feature
from bot.features.membership import (
    arrivals,
    invitations,
    jobs,
    join_flow,
    membership_flow,
    officer_flow,
)
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
    subscriptions=Subscriptions(counter_arrivals=(arrivals.counter_arrivals,)),
)
