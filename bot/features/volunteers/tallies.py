"""Volunteering in numbers for staff: places, asks, who volunteers, and how concentrated it is.

The seeds' worry is 負担集中 — the same few doing everything — so besides counts this reports
the share of shifts done by the busiest 10% of volunteers (1.0: they do all of it; 0.1: the
load is perfectly even). Every function takes optional association ids to scope a staff view.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from bot.features.volunteers.models import Opportunity, Shift, Slot, VolunteerOffer


@dataclass(frozen=True)
class SlotCounts:
    """Places: slots fully filled and still open, and people placed against people needed."""

    filled_slots: int
    open_slots: int
    places_filled: int
    places_needed: int


@dataclass(frozen=True)
class AssociationHours:
    """Hours served and points earned in one association's activities."""

    association_id: int | None
    hours: float
    points: int
    shifts: int


_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])


def _scoped(query: _Query, association_ids: Sequence[int] | None) -> _Query:
    if association_ids is None:
        return query
    return query.where(col(Opportunity.association_id).in_(association_ids))


def slot_counts(
    session: Session, association_ids: Sequence[int] | None = None, month: int | None = None
) -> SlotCounts:
    """Slots with every place taken vs. still open (done slots count by their filling;
    slots the organiser cancelled are left out: nobody is needed there any more)."""
    query = (
        select(Slot.filled, Slot.needed)
        .join(Opportunity, col(Opportunity.id) == Slot.opportunity_id)
        .where(col(Slot.status) != "cancelled")
    )
    if month is not None:
        query = query.where(Slot.month == month)
    rows = session.exec(_scoped(query, association_ids)).all()
    filled = sum(1 for f, n in rows if f >= n)
    return SlotCounts(
        filled_slots=filled,
        open_slots=len(rows) - filled,
        places_filled=sum(f for f, _ in rows),
        places_needed=sum(n for _, n in rows),
    )


def offer_counts(
    session: Session, association_ids: Sequence[int] | None = None, month: int | None = None
) -> dict[str, int]:
    """Asks by outcome: sent (all matched asks), accepted, declined, expired, withdrawn,
    pending, sign-ups made by residents themselves, and places residents gave back
    (cancelled, whether first asked or signed up)."""
    query = (
        select(VolunteerOffer.source, VolunteerOffer.status, func.count())
        .join(Slot, col(Slot.id) == VolunteerOffer.slot_id)
        .join(Opportunity, col(Opportunity.id) == Slot.opportunity_id)
        .group_by(col(VolunteerOffer.source), col(VolunteerOffer.status))
    )
    if month is not None:
        query = query.where(VolunteerOffer.month == month)
    counts = {
        "sent": 0,
        "accepted": 0,
        "declined": 0,
        "expired": 0,
        "withdrawn": 0,
        "pending": 0,
        "signups": 0,
        "cancelled": 0,
    }
    for source, status, n in session.exec(_scoped(query, association_ids)).all():
        if source == "signup":
            counts["signups"] += n if status == "accepted" else 0
            counts["cancelled"] += n if status == "cancelled" else 0
            continue
        counts["sent"] += n
        counts["pending" if status == "offered" else status] += n
    return counts


def volunteers_by_month(
    session: Session, association_ids: Sequence[int] | None = None
) -> dict[int, int]:
    """Distinct residents who served (attended a shift), per month yyyymm."""
    query = (
        select(Shift.month, func.count(func.distinct(Shift.resident_id)))
        .join(Slot, col(Slot.id) == Shift.slot_id)
        .join(Opportunity, col(Opportunity.id) == Slot.opportunity_id)
        .where(col(Shift.attended).is_(True))
        .group_by(col(Shift.month))
    )
    rows = session.exec(_scoped(query, association_ids)).all()
    return {int(month): int(n) for month, n in rows}


def busiest_share(
    session: Session, association_ids: Sequence[int] | None = None, month: int | None = None
) -> float | None:
    """Share of attended shifts done by the busiest 10% of volunteers (None: nobody yet)."""
    query = (
        select(Shift.resident_id, func.count())
        .join(Slot, col(Slot.id) == Shift.slot_id)
        .join(Opportunity, col(Opportunity.id) == Slot.opportunity_id)
        .where(col(Shift.attended).is_(True))
        .group_by(col(Shift.resident_id))
    )
    if month is not None:
        query = query.where(Shift.month == month)
    per_person = sorted(
        (int(n) for _, n in session.exec(_scoped(query, association_ids)).all()), reverse=True
    )
    return top_share(per_person)


def top_share(per_person: Sequence[int], fraction: float = 0.1) -> float | None:
    """Share of the total held by the top `fraction` of people (at least one person)."""
    total = sum(per_person)
    if not per_person or total == 0:
        return None
    top = max(1, math.ceil(len(per_person) * fraction))
    return sum(sorted(per_person, reverse=True)[:top]) / total


def hours_by_association(
    session: Session, association_ids: Sequence[int] | None = None, month: int | None = None
) -> list[AssociationHours]:
    """Hours and points per association whose activities they were."""
    query = (
        select(
            Opportunity.association_id,
            func.coalesce(func.sum(Shift.hours), 0.0),
            func.coalesce(func.sum(Shift.points), 0),
            func.count(),
        )
        .join(Slot, col(Slot.id) == Shift.slot_id)
        .join(Opportunity, col(Opportunity.id) == Slot.opportunity_id)
        .where(col(Shift.attended).is_(True))
        .group_by(col(Opportunity.association_id))
    )
    if month is not None:
        query = query.where(Shift.month == month)
    rows = session.exec(_scoped(query, association_ids)).all()
    return [AssociationHours(a, float(h), int(p), int(n)) for a, h, p, n in rows]
