"""The notices feature's record: what it adds to the bot (see bot/feature.py)."""

from bot.feature import Feature
from bot.features.notices import jobs
from bot.features.notices.staff import paper_routes
from bot.features.notices.staff import routes as staff_routes

FEATURE = Feature(
    name="notices",
    jobs=jobs.jobs,
    staff_routers=(staff_routes.router, paper_routes.router),
)
