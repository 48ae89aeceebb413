"""The notices feature's record: what it adds to the bot (see bot/feature.py)."""

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from bot.conversation.registry import Registry
from bot.core import han
from bot.core.hooks import Subscriptions
from bot.core.scope import Permission
from bot.feature import Feature
from bot.features.notices import (
    ack_flow,
    digest,
    household_coverage,
    jobs,
    messages,
    notices,
    paper_flow,
    public_routes,
    worklist_flow,
)
from bot.features.notices.staff import api as staff_api
from bot.features.notices.staff import council as staff_council
from bot.features.notices.staff import paper_routes
from bot.features.notices.staff import routes as staff_routes
from bot.staff.web import NavItem


def _flows(registry: Registry) -> None:
    ack_flow.register(registry)
    paper_flow.register(registry)  # 班長 tick households handed the paper copy
    worklist_flow.register(registry)  # 班長: my 班's households a notice has not reached


def _announce(
    session: Session,
    event_id: int,
    notifier: Any,
    now: datetime,
    base_url: str,
    author_resident_id: int | None,
) -> int:
    """Answers `hooks.ask_announce_event`: residents the invitation reached."""
    sent = messages.announce_event(session, event_id, notifier, now, base_url, author_resident_id)
    return sent.recipients


FEATURE = Feature(
    name="notices",
    flows=_flows,
    jobs=jobs.jobs,
    # A 班長 who erased their data leads no 班 any more (the role is core's, bot/core/han.py).
    erasers=(han.forget,),
    nav=(NavItem("nav.notices", "/staff/notices", Permission.SEND_NOTICES, 50),),
    templates=Path(__file__).parent / "staff" / "templates",
    staff_routers=(staff_routes.router, paper_routes.router),
    api_routers=(staff_api.router,),
    public_routers=(public_routes.router,),
    subscriptions=Subscriptions(
        council_sections=(staff_council.council_sections,),
        digest_counts=(digest.counts,),
        # An event cancelled: the queued pushes of notices inviting to it are withdrawn.
        event_cancelled=(notices.withdraw_event_notices,),
        # An organiser publishing an event in LINE announces it with a notice.
        announce_event=(_announce,),
        # The staff web shows reach and cost before an organiser announces an event.
        preview_announcement=(notices.preview_announcement,),
        # A household left the register: its paper ticks go, its recipients lose it.
        household_removed=(household_coverage.forget_household,),
    ),
)
