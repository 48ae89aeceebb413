"""Coverage of a notice per household of the register (世帯名簿): LINE, paper, or not yet.

For an association that keeps its register in Tsunagari, a household counts as reached when
one of its LINE members acknowledged the notice (or, for a notice that asks for no
acknowledgement, LINE accepted the push for one of them), or when its 班長 ticked it as
handed the paper copy. Households on paper only count like any other, so the figure is
households reached over all households of the register, per 班.

Every query is bounded by one association (and one 班 for the worklist) through the
register's (association, 班) index and the recipients' (notice, association, 班) index, so
the page costs the same in a city of 500,000 households as in a small town.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, delete, func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.core.households import key_of, natural_key
from bot.core.models.households import Household
from bot.features.notices.models import Notice, NoticeAck, NoticeRecipient, PaperDelivery
from bot.platform.delivery import outcomes
from bot.platform.delivery.models import OutboxMessage


def has_register(session: Session, association_id: int) -> bool:
    """Whether the association keeps households in the register."""
    found = session.exec(
        select(Household.id).where(Household.association_id == association_id).limit(1)
    ).first()
    return found is not None


def _line_reached(notice: Notice, association_id: int) -> Select[Any]:
    """household ids of the association reached on LINE (acknowledged, or delivered)."""
    query = select(col(NoticeRecipient.household_id)).where(
        NoticeRecipient.notice_id == notice.id,
        NoticeRecipient.association_id == association_id,
        col(NoticeRecipient.household_id).is_not(None),
    )
    if notice.ack_requested:
        return query.join(
            NoticeAck,
            (col(NoticeAck.notice_id) == col(NoticeRecipient.notice_id))
            & (col(NoticeAck.resident_id) == col(NoticeRecipient.resident_id)),
        )
    sent = outcomes.sent_resident_ids(
        select(OutboxMessage.id).where(col(OutboxMessage.key).like(f"notice:{notice.id}:%"))
    )
    return query.where(col(NoticeRecipient.resident_id).in_(sent))


def _paper(notice_id: int, association_id: int) -> Select[Any]:
    return select(col(PaperDelivery.household_id)).where(
        PaperDelivery.notice_id == notice_id,
        PaperDelivery.association_id == association_id,
        col(PaperDelivery.household_id).is_not(None),
    )


def counts_by_han(
    session: Session, notice: Notice, association_id: int
) -> dict[str, tuple[int, int, int, int]]:
    """Per 班: (households, LINE households sent to, reached on LINE, reached on paper only),
    in one grouped query over the association's households."""
    sent = select(col(NoticeRecipient.household_id)).where(
        NoticeRecipient.notice_id == notice.id, NoticeRecipient.association_id == association_id
    )
    reached = _line_reached(notice, association_id).scalar_subquery()
    paper = _paper(int(notice.id or 0), association_id).scalar_subquery()
    household = col(Household.id)

    def tally(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    rows = session.execute(
        sa_select(
            col(Household.han),
            func.count(),
            tally(household.in_(sent.scalar_subquery())),
            tally(household.in_(reached)),
            tally(household.in_(paper) & household.not_in(reached)),
        )
        .where(col(Household.association_id) == association_id)
        .group_by(col(Household.han))
    ).all()
    return {
        han: (int(total), int(sent_n or 0), int(line_n or 0), int(paper_n or 0))
        for han, total, sent_n, line_n, paper_n in rows
    }


def reached_association(session: Session, notice: Notice, association_id: int) -> bool:
    """Whether the notice is the association's own or went to any of its members."""
    if notice.association_id == association_id:
        return True
    found = session.exec(
        select(NoticeRecipient.id)
        .where(
            NoticeRecipient.notice_id == notice.id,
            NoticeRecipient.association_id == association_id,
        )
        .limit(1)
    ).first()
    return found is not None


def not_reached(
    session: Session, notice: Notice, *, association_id: int, han: str
) -> list[Household]:
    """The 班's households the notice has not reached yet (the 班長's worklist)."""
    reached = _line_reached(notice, association_id)
    paper = _paper(int(notice.id or 0), association_id)
    found = session.exec(
        select(Household).where(
            Household.association_id == association_id,
            Household.han == han,
            col(Household.id).not_in(reached.scalar_subquery()),
            col(Household.id).not_in(paper.scalar_subquery()),
        )
    )
    return sorted(found, key=lambda h: natural_key(h.key))


def match_labels(
    session: Session, *, association_id: int, han: str, labels: list[str]
) -> dict[str, int]:
    """Typed household labels (「3-12」) that name a household of the 班 by its address: the
    old per-班 tick feeds the same per-household records."""
    wanted = {key_of(label): label for label in labels}
    found: dict[str, int] = {}
    for household_id, key in session.exec(
        select(Household.id, Household.key).where(
            Household.association_id == association_id,
            Household.han == han,
            col(Household.key).in_(list(wanted)),
        )
    ).all():
        found[wanted[key]] = int(household_id or 0)
    return found


def forget_household(session: Session, household_id: int, now: datetime) -> None:
    """On `hooks.emit_household_removed`: the household's ticks go, its recipients lose it."""
    session.execute(delete(PaperDelivery).where(col(PaperDelivery.household_id) == household_id))
    session.execute(
        update(NoticeRecipient)
        .where(col(NoticeRecipient.household_id) == household_id)
        .values(household_id=None)
        .execution_options(synchronize_session=False)
    )
