"""Paper rounds of a notice: the households a 班長 handed the printed copy, ticked in bulk.

Households are labels the 班長 knows (a house number, "3-12"), never names. Ticks feed the
read coverage of bot/features/notices/coverage.py, which counts paper and LINE together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot.core.han import MAX_HAN
from bot.core.models.han import HanLeader
from bot.core.models.households import Household
from bot.features.notices import household_coverage, notices
from bot.features.notices.models import Notice, NoticeRecipient, NoticeStatus, PaperDelivery

MAX_HOUSEHOLD = 60
MAX_PER_TICK = 200
LIST_LIMIT = 8  # chips a small phone shows without scrolling far


class PaperError(ValueError):
    """A tick the notice cannot take; `code` names the reason for the page."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class TickResult:
    """How many households were newly ticked and how many were ticked already."""

    added: int = 0
    already: int = 0
    households: list[str] = field(default_factory=list)


def parse_households(text: str) -> list[str]:
    """One household per line (or comma), blanks dropped, each once, in the order given."""
    labels = [part.strip() for line in text.splitlines() for part in line.split("、")]
    labels = [p.strip() for label in labels for p in label.split(",") if p.strip()]
    if not labels:
        raise PaperError("no_households")
    if len(labels) > MAX_PER_TICK:
        raise PaperError("too_many")
    if any(len(label) > MAX_HOUSEHOLD for label in labels):
        raise PaperError("too_long")
    return list(dict.fromkeys(labels))


def tick_households(
    session: Session,
    *,
    notice_id: int,
    association_id: int,
    han: str,
    households: Iterable[str],
    now: datetime,
    by_staff_id: int | None = None,
    by_resident_id: int | None = None,
) -> TickResult:
    """Tick each household of one 班 as handed the paper copy (a second tick is a no-op)."""
    notice = session.get(Notice, notice_id)
    if notice is None or notice.status == NoticeStatus.CANCELLED:
        raise PaperError("cancelled")
    han = han.strip()
    if len(han) > MAX_HAN:
        raise PaperError("too_long")
    result = TickResult()
    labels = list(households)
    registered = household_coverage.match_labels(
        session, association_id=association_id, han=han, labels=labels
    )
    for household in labels:
        added = notices.tick_paper_delivery(
            session,
            notice_id=notice_id,
            association_id=association_id,
            household=household,
            han=han,
            now=now,
            by_staff_id=by_staff_id,
            by_resident_id=by_resident_id,
            household_id=registered.get(household),
        )
        result.added += int(added)
        result.already += int(not added)
        result.households.append(household)
    return result


def untick(session: Session, *, notice_id: int, tick_id: int) -> PaperDelivery | None:
    """Remove a tick made by mistake; returns the removed row (None if it was not there)."""
    row = session.get(PaperDelivery, tick_id)
    if row is None or row.notice_id != notice_id:
        return None
    session.delete(row)
    return row


def ticks(
    session: Session,
    *,
    notice_id: int,
    association_ids: list[int] | None,
    limit: int | None = None,
) -> list[PaperDelivery]:
    """The notice's ticks, by association, 班 and household (`None`: every association);
    the newest `limit` first when a page shows only some."""
    query = select(PaperDelivery).where(PaperDelivery.notice_id == notice_id)
    if association_ids is not None:
        query = query.where(col(PaperDelivery.association_id).in_(association_ids))
    if limit is not None:
        newest = query.order_by(col(PaperDelivery.id).desc()).limit(limit)
        return list(session.exec(newest).all())
    order = (
        col(PaperDelivery.association_id),
        col(PaperDelivery.han),
        col(PaperDelivery.household),
    )
    return list(session.exec(query.order_by(*order)).all())


def tick_count(session: Session, *, notice_id: int, association_ids: list[int] | None) -> int:
    """How many ticks `ticks` would list without a limit."""
    query = (
        select(func.count()).select_from(PaperDelivery).where(PaperDelivery.notice_id == notice_id)
    )
    if association_ids is not None:
        query = query.where(col(PaperDelivery.association_id).in_(association_ids))
    return int(session.exec(query).one())


def recent_notices(session: Session, *, association_id: int) -> list[Notice]:
    """Sent notices that reached the association (its own, or with its members among the
    recipients), newest first: those its 班長 may tick paper rounds of."""
    reached = select(NoticeRecipient.id).where(
        col(NoticeRecipient.notice_id) == col(Notice.id),
        NoticeRecipient.association_id == association_id,
    )
    return list(
        session.exec(
            select(Notice)
            .where(
                Notice.status == NoticeStatus.SENT,
                or_(col(Notice.association_id) == association_id, reached.exists()),
            )
            .order_by(col(Notice.sent_at).desc(), col(Notice.id).desc())
            .limit(LIST_LIMIT)
        )
    )


def tick_as_leader(
    session: Session,
    *,
    leader: HanLeader,
    notice_id: int,
    households: list[str],
    now: datetime,
) -> TickResult:
    """Tick households of the leader's 班 as handed the paper copy of a notice they may see."""
    if notice_id not in {
        n.id for n in recent_notices(session, association_id=leader.association_id)
    }:
        raise PaperError("cancelled")
    return tick_households(
        session,
        notice_id=notice_id,
        association_id=leader.association_id,
        han=leader.han,
        households=households,
        now=now,
        by_resident_id=leader.resident_id,
    )


def paper_label(household: Household) -> str:
    """What a tick of a registered household records as its label: its address (never a
    name); without one, the 班 and its number in the register."""
    return (household.address or f"{household.han}-{household.id}")[:MAX_HOUSEHOLD]


def worklist(session: Session, *, leader: HanLeader, notice_id: int) -> list[Household]:
    """The households of the leader's 班 this notice has not reached yet (LINE or paper)."""
    notice = _leader_notice(session, leader, notice_id)
    return household_coverage.not_reached(
        session, notice, association_id=leader.association_id, han=leader.han
    )


def tick_one_as_leader(
    session: Session, *, leader: HanLeader, notice_id: int, household_id: int, now: datetime
) -> bool:
    """A 班長's tap on one household of their 班: handed the paper copy (False: already)."""
    _leader_notice(session, leader, notice_id)
    household = session.get(Household, household_id)
    if (
        household is None
        or household.association_id != leader.association_id
        or household.han != leader.han
    ):
        raise PaperError("not_in_han")
    return notices.tick_paper_delivery(
        session,
        notice_id=notice_id,
        association_id=leader.association_id,
        household=paper_label(household),
        han=leader.han,
        now=now,
        by_resident_id=leader.resident_id,
        household_id=household_id,
    )


def _leader_notice(session: Session, leader: HanLeader, notice_id: int) -> Notice:
    found = {n.id: n for n in recent_notices(session, association_id=leader.association_id)}
    if notice_id not in found:
        raise PaperError("cancelled")
    return found[notice_id]
