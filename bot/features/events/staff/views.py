"""Events as staff see them: the list with RSVP and check-in totals, one event's tally.

Counts only. The list is two grouped queries over the events in scope; one event's tally
comes from bot/features/events/tallies.py once the event is known to be in scope.
"""

from __future__ import annotations

from datetime import tzinfo

from sqlmodel import Session, col, func, select

from bot.core.models.areas import Association
from bot.core.scope import Permission, Scope
from bot.features.events import tallies as tallies_events
from bot.features.events.models import CheckIn, Event, Rsvp, RsvpAnswer
from bot.staff.tables import Column, Table

LIST_LIMIT = 200

EVENT_COLUMNS = [
    Column("starts_at", "col.starts_at"),
    Column("title", "col.title"),
    Column("association", "col.association"),
    Column("status", "col.status", labels="status."),
    Column("going", "col.going", numeric=True),
    Column("headcount", "col.headcount", numeric=True),
    Column("checked_in", "col.checked_in", numeric=True),
]


class EventNotFound(Exception):
    """No such event (the web answers 404)."""


def events_table(session: Session, scope: Scope, tz: tzinfo) -> Table:
    """The latest events in scope with going / headcount / checked-in totals."""
    events = session.exec(
        select(Event, Association.name)
        .outerjoin(Association, col(Association.id) == col(Event.association_id))
        .where(scope.association_filter(Event.association_id))
        .order_by(col(Event.starts_at).desc())
        .limit(LIST_LIMIT)
    ).all()
    ids = [e.id for e, _name in events]
    going: dict[int, tuple[int, int]] = (
        {
            int(event_id): (int(n), int(people or 0))
            for event_id, n, people in session.exec(
                select(Rsvp.event_id, func.count(), func.sum(Rsvp.adults + Rsvp.children))
                .where(col(Rsvp.event_id).in_(ids), Rsvp.answer == RsvpAnswer.GOING)
                .group_by(col(Rsvp.event_id))
            ).all()
        }
        if ids
        else {}
    )
    checked = (
        dict(
            session.exec(
                select(CheckIn.event_id, func.count())
                .where(col(CheckIn.event_id).in_(ids))
                .group_by(col(CheckIn.event_id))
            ).all()
        )
        if ids
        else {}
    )
    rows = [
        {
            "event_id": e.id,
            "starts_at": e.starts_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            "title": e.title,
            "association": name or "",
            "status": e.status,
            "going": going.get(e.id or 0, (0, 0))[0],
            "headcount": going.get(e.id or 0, (0, 0))[1],
            "checked_in": int(checked.get(e.id or 0, 0)),
        }
        for e, name in events
    ]
    return Table("events", EVENT_COLUMNS, rows)


TALLY_COLUMNS = [
    Column("association", "col.association"),
    Column("going", "col.going", numeric=True),
    Column("maybe", "col.maybe", numeric=True),
    Column("not_going", "col.not_going", numeric=True),
    Column("waitlisted", "col.waitlisted", numeric=True),
    Column("headcount", "col.headcount", numeric=True),
    Column("checked_in", "col.checked_in", numeric=True),
]


def scoped_event(session: Session, scope: Scope, event_id: int) -> Event:
    """The event, when it exists and belongs to an association in scope."""
    event = session.get(Event, event_id)
    if event is None:
        raise EventNotFound(event_id)
    scope.require_owned(session, event.association_id, f"event {event_id}")
    return event


def tally_table(
    session: Session, scope: Scope, event_id: int, *, non_members: str, total: str
) -> Table:
    """One event's answers and check-ins by the association of the residents (counts only)."""
    scoped_event(session, scope, event_id)
    tally = tallies_events.event_tally(session, event_id=event_id)
    names = dict(session.exec(select(Association.id, Association.name)).all())
    rows = []
    for association_id, counts in sorted(
        tally.by_association.items(), key=lambda item: (item[0] is None, item[0] or 0)
    ):
        label = names.get(association_id, "") if association_id is not None else non_members
        rows.append({"association": label, **_counts(counts)})
    rows.append({"association": total, **_counts(tally.total)})
    notes = {
        "walk_in_adults": tally.walk_in_adults,
        "walk_in_children": tally.walk_in_children,
        "attended": tally.attended,
    }
    return Table(f"event-{event_id}-tally", TALLY_COLUMNS, rows, notes)


def _counts(c: tallies_events.AnswerCounts) -> dict[str, int]:
    return {
        "going": c.going,
        "maybe": c.maybe,
        "not_going": c.not_going,
        "waitlisted": c.waitlisted,
        "headcount": c.headcount,
        "checked_in": c.checked_in,
    }


def may_see_roster(session: Session, scope: Scope, account_id: int | None, event: Event) -> bool:
    """Names and needs are for the officers of the event's association and for the staff
    account that organises this event, nobody else (residents consented to their association,
    not to the city; another organiser of the same association runs other events)."""
    if account_id is not None and event.organiser_staff_id == account_id:
        return True
    return (
        scope.can(Permission.VIEW_MEMBERS)
        and event.association_id is not None
        and scope.allows_association(session, event.association_id)
    )
