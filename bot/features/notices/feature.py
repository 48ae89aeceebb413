"""The notices feature's record: what it adds to the bot (see bot/feature.py)."""

from pathlib import Path

from bot.core.scope import Permission
from bot.feature import Feature
from bot.features.notices import jobs
from bot.features.notices.staff import paper_routes
from bot.features.notices.staff import routes as staff_routes
from bot.staff.web import NavItem

FEATURE = Feature(
    name="notices",
    jobs=jobs.jobs,
    nav=(NavItem("nav.notices", "/staff/notices", Permission.SEND_NOTICES, 50),),
    templates=Path(__file__).parent / "staff" / "templates",
    staff_routers=(staff_routes.router, paper_routes.router),
)
