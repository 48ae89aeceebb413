"""The surveys feature's record: what it adds to the bot (see bot/feature.py)."""

from pathlib import Path

from bot.content import Content, ContentError
from bot.core.hooks import Subscriptions
from bot.core.scope import Permission
from bot.feature import Feature
from bot.features.surveys import for_overview, jobs, survey_flow, surveys
from bot.features.surveys.catalog import load_catalog
from bot.features.surveys.staff import api as staff_api
from bot.features.surveys.staff import council as staff_council
from bot.features.surveys.staff import routes as staff_routes
from bot.staff.web import NavItem


def check_audiences(content: Content) -> None:
    """Every survey names a known audience (disabled ones too: switching one on must not
    discover a typo)."""
    audiences = surveys.known_audiences()
    for survey in load_catalog(content.root).surveys.values():
        if survey.audience not in audiences:
            path = content.path("surveys", f"{survey.id}.yaml")
            raise ContentError(
                f"{path}: key 'audience': unknown audience {survey.audience!r} "
                f"(known: {', '.join(sorted(audiences))})"
            )


FEATURE = Feature(
    name="surveys",
    flows=survey_flow.register,
    jobs=jobs.jobs,
    erasers=(surveys.forget_resident,),
    purges=(jobs.purge_old_invites,),
    nav=(NavItem("nav.surveys", "/staff/surveys", Permission.VIEW_TALLIES, 35),),
    templates=Path(__file__).parent / "staff" / "templates",
    staff_routers=(staff_routes.router,),
    api_routers=(staff_api.router,),
    catalogs=(check_audiences,),
    subscriptions=Subscriptions(
        council_sections=(staff_council.council_sections,),
        overview_indicators=(for_overview.overview_indicators,),
    ),
)
