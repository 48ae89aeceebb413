"""Event tallies for the staff web: per event by association, per association per month.

Counts only (no names). Grouped in SQL so an event with thousands of answers costs one query
per measure; months are Tokyo-time months.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from bot.core.models.membership import Membership, MembershipStatus
from bot.core.when import TOKYO
from bot.features.events.models import CheckIn, Event, EventStatus, Rsvp, WalkIn


@dataclass
class AnswerCounts:
    """One row of an event's tally (an association, or None for non-members)."""

    going: int = 0
    maybe: int = 0
    not_going: int = 0
    waitlisted: int = 0
    headcount: int = 0  # adults + children of `going` answers
    adults: int = 0
    children: int = 0
    checked_in: int = 0
    needs_noted: int = 0


@dataclass
class EventTally:
    """An event's tally: totals, rows per association, walk-ins."""

    event_id: int
    total: AnswerCounts
    by_association: dict[int | None, AnswerCounts] = field(default_factory=dict)
    walk_in_adults: int = 0
    walk_in_children: int = 0

    @property
    def attended(self) -> int:
        """People present: checked-in residents plus walk-ins."""
        return self.total.checked_in + self.walk_in_adults + self.walk_in_children


def _association_of(resident_id: Any) -> Any:
    """The resident's current association, looked up per row through the (resident, status)
    index: a join would let the planner hash the city's memberships for one event's answers.

    A resident has at most one approved membership (approving one ends the others), so
    LIMIT 1 needs no ORDER BY, which would add a sort to every lookup.
    """
    return (
        select(Membership.association_id)
        .where(
            col(Membership.resident_id) == resident_id,
            Membership.status == MembershipStatus.APPROVED,
        )
        .limit(1)
        .scalar_subquery()
    )


def event_tally(session: Session, *, event_id: int) -> EventTally:
    """going / maybe / not / waitlisted / headcount / checked-in, in total and by association."""
    answers = (
        core_select(
            _association_of(Rsvp.resident_id).label("association_id"),
            col(Rsvp.answer).label("answer"),
            col(Rsvp.adults).label("adults"),
            col(Rsvp.children).label("children"),
            col(Rsvp.needs).label("needs"),
        )
        .where(col(Rsvp.event_id) == event_id)
        .subquery()
    )
    rows = session.execute(
        core_select(
            answers.c.association_id,
            answers.c.answer,
            func.count(),
            func.sum(answers.c.adults),
            func.sum(answers.c.children),
            func.sum(case((func.length(answers.c.needs) > 0, 1), else_=0)),
        ).group_by(answers.c.association_id, answers.c.answer)
    ).all()
    tally = EventTally(event_id, AnswerCounts())
    for association_id, answer, n, adults, children, needs in rows:
        for target in (
            tally.total,
            tally.by_association.setdefault(association_id, AnswerCounts()),
        ):
            _add(target, str(answer), int(n), int(adults or 0), int(children or 0), int(needs or 0))
    checked_in = (
        select(_association_of(CheckIn.resident_id).label("association_id"))
        .where(CheckIn.event_id == event_id)
        .subquery()
    )
    checked = session.execute(
        select(checked_in.c.association_id, func.count()).group_by(checked_in.c.association_id)
    ).all()
    for association_id, n in checked:
        tally.total.checked_in += int(n)
        tally.by_association.setdefault(association_id, AnswerCounts()).checked_in += int(n)
    walk = session.exec(
        select(
            func.coalesce(func.sum(WalkIn.adults), 0), func.coalesce(func.sum(WalkIn.children), 0)
        ).where(WalkIn.event_id == event_id)
    ).one()
    tally.walk_in_adults, tally.walk_in_children = int(walk[0]), int(walk[1])
    return tally


def _add(row: AnswerCounts, answer: str, n: int, adults: int, children: int, needs: int) -> None:
    if answer == "going":
        row.going += n
        row.adults, row.children = row.adults + adults, row.children + children
        row.headcount += adults + children
    elif answer == "maybe":
        row.maybe += n
    elif answer == "not":
        row.not_going += n
    elif answer == "waitlisted":
        row.waitlisted += n
    row.needs_noted += needs


@dataclass(frozen=True)
class MonthRow:
    """Events held and participants for one association in one month (Tokyo time)."""

    association_id: int
    month: str  # YYYY-MM
    events_held: int
    participants: int  # checked-in residents plus walk-ins
    distinct_residents: int  # different residents who checked in that month


def association_months(
    session: Session,
    *,
    now: datetime,
    since: datetime | None = None,
    association_ids: Iterable[int] | None = None,
) -> list[MonthRow]:
    """Per association and month: events held (ended, not cancelled) and their participants."""
    query = select(Event.id, Event.association_id, Event.starts_at).where(
        Event.status == EventStatus.PUBLISHED,
        col(Event.ends_at) <= now,
        col(Event.association_id).is_not(None),
    )
    if since is not None:
        query = query.where(col(Event.starts_at) >= since)
    if association_ids is not None:
        query = query.where(col(Event.association_id).in_(list(association_ids)))
    held = session.exec(query).all()
    month_of = {
        eid: (aid, start.astimezone(TOKYO).strftime("%Y-%m"))
        for eid, aid, start in held
        if eid is not None and aid is not None  # always: stored ids, and the query's filter
    }
    counts: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for key in month_of.values():
        counts[key][0] += 1
    residents: dict[tuple[int, str], set[int]] = defaultdict(set)
    ids = list(month_of)
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        for eid, rid in session.exec(
            select(CheckIn.event_id, CheckIn.resident_id).where(col(CheckIn.event_id).in_(chunk))
        ).all():
            counts[month_of[int(eid)]][1] += 1
            residents[month_of[int(eid)]].add(int(rid))
        for eid, people in session.exec(
            select(WalkIn.event_id, func.sum(WalkIn.adults + WalkIn.children))
            .where(col(WalkIn.event_id).in_(chunk))
            .group_by(col(WalkIn.event_id))
        ).all():
            counts[month_of[int(eid)]][1] += int(people or 0)
    return [
        MonthRow(aid, month, n, people, len(residents[(aid, month)]))
        for (aid, month), (n, people) in sorted(counts.items())
    ]
