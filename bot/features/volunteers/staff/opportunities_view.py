"""Volunteer opportunities as organisers see them: the list, one opportunity's slots, who
accepted a slot (to confirm who came), and the events an opportunity may help.

Every read is filtered by the caller's `Scope`: an opportunity belongs to its association,
and one that spans a district or ward (no association) is the city's to manage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import and_
from sqlmodel import Session, col, func, select

from bot.core import hooks
from bot.core.models.areas import Association
from bot.core.models.membership import Membership, MembershipStatus
from bot.core.models.staff import StaffRole
from bot.core.scope import Scope
from bot.features.volunteers.models import OfferStatus, Opportunity, Slot, VolunteerOffer
from bot.staff.tables import Column, Table

LIST_LIMIT = 200
# Names of volunteers are shared with their own association (as with event rosters); the
# city and ward roles read counts only, as residents consented to.
NAME_ROLES = frozenset({StaffRole.ASSOCIATION_OFFICER, StaffRole.ORGANISER})


class OpportunityNotFound(Exception):
    """No such opportunity or slot (the web answers 404)."""


OPPORTUNITY_COLUMNS = [
    Column("created_at", "col.created_at"),
    Column("role", "col.volunteer_role"),
    Column("association", "col.association"),
    Column("event", "col.title"),
    Column("slots", "col.slots", numeric=True),
    Column("filled", "col.places_filled", numeric=True),
    Column("needed", "col.places_needed", numeric=True),
]

SLOT_COLUMNS = [
    Column("starts_at", "col.starts_at"),
    Column("ends_at", "col.ends_at"),
    Column("place", "col.place"),
    Column("needed", "col.places_needed", numeric=True),
    Column("filled", "col.places_filled", numeric=True),
    Column("status", "col.status"),
]


def _local(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def opportunities_table(session: Session, scope: Scope, tz: tzinfo) -> Table:
    """The latest opportunities in scope, with their slots and places (cancelled slots aside)."""
    rows = session.exec(
        select(Opportunity, Association.name)
        .outerjoin(Association, col(Association.id) == col(Opportunity.association_id))
        .where(scope.association_filter(Opportunity.association_id))
        .order_by(col(Opportunity.created_at).desc(), col(Opportunity.id).desc())
        .limit(LIST_LIMIT)
    ).all()
    ids = [o.id for o, _a in rows]
    events = hooks.ask_events_by_id(session, {o.event_id for o, _a in rows if o.event_id})
    places = (
        {
            int(oid): (int(n), int(filled or 0), int(needed or 0))
            for oid, n, filled, needed in session.exec(
                select(
                    Slot.opportunity_id, func.count(), func.sum(Slot.filled), func.sum(Slot.needed)
                )
                .where(col(Slot.opportunity_id).in_(ids), col(Slot.status) != "cancelled")
                .group_by(col(Slot.opportunity_id))
            ).all()
        }
        if ids
        else {}
    )
    out = [
        {
            "opportunity_id": o.id,
            "created_at": _local(o.created_at, tz),
            "role": o.role,
            "association": name or "",
            "event": events[o.event_id].title if o.event_id in events else "",
            "slots": places.get(o.id or 0, (0, 0, 0))[0],
            "filled": places.get(o.id or 0, (0, 0, 0))[1],
            "needed": places.get(o.id or 0, (0, 0, 0))[2],
        }
        for o, name in rows
    ]
    return Table("volunteer-opportunities", OPPORTUNITY_COLUMNS, out)


def scoped_opportunity(session: Session, scope: Scope, opportunity_id: int) -> Opportunity:
    """The opportunity, when it exists and its association is in scope (else ScopeDenied)."""
    opportunity = session.get(Opportunity, opportunity_id)
    if opportunity is None:
        raise OpportunityNotFound(opportunity_id)
    scope.require_owned(session, opportunity.association_id, f"opportunity {opportunity_id}")
    return opportunity


def scoped_slot(session: Session, scope: Scope, slot_id: int) -> tuple[Slot, Opportunity]:
    """The slot and its opportunity, when that opportunity is in scope."""
    slot = session.get(Slot, slot_id)
    if slot is None:
        raise OpportunityNotFound(slot_id)
    return slot, scoped_opportunity(session, scope, slot.opportunity_id)


def slots_of(session: Session, opportunity_id: int) -> list[Slot]:
    """The opportunity's slots, earliest first."""
    return list(
        session.exec(
            select(Slot)
            .where(Slot.opportunity_id == opportunity_id)
            .order_by(col(Slot.starts_at), col(Slot.id))
        ).all()
    )


def slots_table(session: Session, opportunity_id: int, tz: tzinfo) -> Table:
    """One opportunity's slots: when, where, places needed and filled, status."""
    rows = [
        {
            "slot_id": s.id,
            "starts_at": _local(s.starts_at, tz),
            "ends_at": _local(s.ends_at, tz),
            "place": s.place,
            "needed": s.needed,
            "filled": s.filled,
            "status": s.status,
        }
        for s in slots_of(session, opportunity_id)
    ]
    return Table(f"opportunity-{opportunity_id}-slots", SLOT_COLUMNS, rows)


@dataclass(frozen=True)
class RosterEntry:
    """One accepted place on a slot, as the attendance form lists it."""

    resident_id: int
    name: str  # the member's name for the association's own roles, else "" (label by number)


def roster(session: Session, scope: Scope, slot: Slot) -> list[RosterEntry]:
    """Who accepted the slot, in order of acceptance; names only for association roles."""
    rows = session.exec(
        select(VolunteerOffer.resident_id, Membership.full_name)
        .outerjoin(
            Membership,
            and_(
                col(Membership.resident_id) == col(VolunteerOffer.resident_id),
                col(Membership.status) == MembershipStatus.APPROVED,
            ),
        )
        .where(
            col(VolunteerOffer.slot_id) == slot.id,
            col(VolunteerOffer.status) == OfferStatus.ACCEPTED,
        )
        .order_by(col(VolunteerOffer.answered_at), col(VolunteerOffer.id))
    ).all()
    named = scope.role in NAME_ROLES
    seen: dict[int, RosterEntry] = {}
    for resident_id, name in rows:
        seen.setdefault(
            int(resident_id), RosterEntry(int(resident_id), (name or "") if named else "")
        )
    return list(seen.values())


def events_for_form(session: Session, scope: Scope, now: datetime) -> list[hooks.EventChoice]:
    """Upcoming events in scope that an opportunity may help (the form's choice; the events
    feature answers through bot/core/hooks.py)."""
    return hooks.ask_upcoming_events(session, scope, now, LIST_LIMIT)
