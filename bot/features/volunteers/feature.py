"""The volunteers feature's record: what it adds to the bot (see bot/feature.py)."""

from pathlib import Path

from bot.content import Content
from bot.core.hooks import Subscriptions
from bot.core.scope import Permission
from bot.feature import Feature
from bot.features.volunteers import catalog, digest, jobs, messages, volunteer_flow, volunteers
from bot.features.volunteers.staff import council as staff_council
from bot.features.volunteers.staff import opportunity_routes
from bot.features.volunteers.staff import routes as staff_routes
from bot.staff.web import NavItem


def check_catalog(content: Content) -> None:
    """The interests and skills residents choose from have labels in every locale."""
    catalog.check_labels(catalog.load_catalog(content.root), content)


FEATURE = Feature(
    name="volunteers",
    flows=volunteer_flow.register,
    jobs=jobs.jobs,
    erasers=(volunteers.forget,),
    nav=(NavItem("nav.volunteers", "/staff/volunteers", Permission.VIEW_EVENTS, 45),),
    templates=Path(__file__).parent / "staff" / "templates",
    staff_routers=(staff_routes.router, opportunity_routes.router),
    catalogs=(check_catalog,),
    # A resident who joins, moves or leaves is matched in their new area.
    subscriptions=Subscriptions(
        council_sections=(staff_council.council_sections,),
        membership_changed=(volunteers.on_membership_changed,),
        digest_counts=(digest.counts,),
        # Accepted shifts are listed in わたしの出欠 beside the events answered.
        resident_commitments=(messages.commitments,),
    ),
)
