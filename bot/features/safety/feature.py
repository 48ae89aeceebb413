"""The safety checks' record: what they add to the bot (see bot/feature.py)."""

from datetime import datetime
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session, col

from bot.conversation.registry import Registry
from bot.core.hooks import Subscriptions
from bot.core.scope import Permission
from bot.feature import Feature
from bot.features.safety import answer_flow, batch_answer_flow, jobs, visit_flow
from bot.features.safety.models import SafetyHousehold
from bot.features.safety.staff import routes
from bot.staff.web import NavItem


def _flows(registry: Registry) -> None:
    answer_flow.register(registry)  # residents: one tap for the household, people, a note
    batch_answer_flow.register(registry)  # the same taps in a surge, many per transaction
    visit_flow.register(registry)  # 班長: the households of my 班 to visit


def _forget_household(session: Session, household_id: int, now: datetime) -> None:
    """A household left the register: its rows in past checks keep their counts, unlinked."""
    session.execute(
        update(SafetyHousehold)
        .where(col(SafetyHousehold.household_id) == household_id)
        .values(household_id=None)
        .execution_options(synchronize_session=False)
    )


def _forget_resident(session: Session, resident_id: int, now: datetime) -> None:
    """データ削除: a resident's answers keep the household's state, not who gave it."""
    for column in ("resident_id", "answered_by", "visited_by"):
        session.execute(
            update(SafetyHousehold)
            .where(col(getattr(SafetyHousehold, column)) == resident_id)
            .values({column: None})
            .execution_options(synchronize_session=False)
        )


FEATURE = Feature(
    name="safety",
    flows=_flows,
    jobs=jobs.jobs,
    erasers=(_forget_resident,),
    staff_routers=(routes.router,),
    nav=(NavItem("safety.nav", "/staff/safety", Permission.RUN_SAFETY_CHECKS, 45),),
    templates=Path(__file__).parent / "staff" / "templates",
    subscriptions=Subscriptions(household_removed=(_forget_household,)),
)
