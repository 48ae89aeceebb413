"""The council report's record: a staff page and its PDF and workbook (see bot/feature.py)."""

from pathlib import Path

from bot.core.scope import Permission
from bot.feature import Feature
from bot.features.council.staff import api as staff_api
from bot.features.council.staff import routes as staff_routes
from bot.staff.web import NavItem

FEATURE = Feature(
    name="council",
    nav=(NavItem("nav.council", "/staff/council", Permission.VIEW_TALLIES, 36),),
    templates=Path(__file__).parent / "staff" / "templates",
    staff_routers=(staff_routes.router,),
    api_routers=(staff_api.router,),
)
