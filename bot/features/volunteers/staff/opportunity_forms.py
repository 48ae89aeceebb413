"""Checking the organiser's opportunity and slot forms before anything is stored.

Each check names the field it failed with a key (shown as `volunteers.error_<key>` from
content/staff), like Rasa's `validate_<slot>`: the page shows every problem at once, keeps
what was typed, and stores nothing until all fields pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.core import hooks
from bot.core.scope import Scope
from bot.features.volunteers.catalog import Catalog

MAX_PEOPLE = 50  # a slot is a shift of a few people; a festival is split into several slots


@dataclass
class SlotForm:
    """One slot as typed: a date, a start and end time (city time), a place, how many people."""

    day: str = ""
    start: str = ""
    end: str = ""
    place: str = ""
    needed: str = "1"


@dataclass
class OpportunityForm:
    """The opportunity form as typed, with its first slot."""

    association_id: str = ""
    role: str = ""
    description: str = ""
    interests: list[str] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)
    event_id: str = ""
    slot: SlotForm = field(default_factory=SlotForm)


@dataclass(frozen=True)
class SlotValues:
    """A slot that passed: UTC times, place, people."""

    starts_at: datetime
    ends_at: datetime
    place: str
    needed: int


@dataclass(frozen=True)
class OpportunityValues:
    """An opportunity that passed, ready for volunteers.create_opportunity."""

    association_id: int
    role: str
    description: str
    interests: list[str]
    skills: list[str]
    event_id: int | None
    slot: SlotValues


def check_slot(form: SlotForm, tz: ZoneInfo, now: datetime, errors: list[str]) -> SlotValues | None:
    """The slot's values, or None with the failed fields appended to `errors`."""
    when: tuple[date, time, time] | None
    try:
        day = date.fromisoformat(form.day.strip())
        start, end = time.fromisoformat(form.start.strip()), time.fromisoformat(form.end.strip())
        when = (day, start, end)
    except ValueError:
        errors.append("when")
        when = None
    needed = _int(form.needed)
    if needed is None or not 1 <= needed <= MAX_PEOPLE:
        errors.append("needed")
    if len(form.place.strip()) > 200:
        errors.append("place")
    if when is None:
        return None
    day, start, end = when
    starts = datetime.combine(day, start, tzinfo=tz)
    ends = datetime.combine(day, end, tzinfo=tz)
    if ends <= starts:
        errors.append("order")
    elif starts <= now:
        errors.append("past")
    if errors:
        return None
    assert needed is not None
    return SlotValues(
        starts.astimezone(now.tzinfo), ends.astimezone(now.tzinfo), form.place.strip(), needed
    )


def check_opportunity(
    session: Session,
    scope: Scope,
    form: OpportunityForm,
    catalog: Catalog,
    tz: ZoneInfo,
    now: datetime,
) -> tuple[OpportunityValues | None, list[str]]:
    """The opportunity's values and no errors, or None and every failed field.

    Raises ScopeDenied for an association outside the caller's scope."""
    errors: list[str] = []
    association_id = _int(form.association_id)
    if association_id is None:
        errors.append("association")
    else:  # another association's id is not a typing mistake: refuse it outright (403)
        scope.require_association(session, association_id)
    role = form.role.strip()
    if not 1 <= len(role) <= 80:
        errors.append("role")
    if len(form.description) > 1000:
        errors.append("description")
    if not form.interests or not set(form.interests) <= set(catalog.interests):
        errors.append("interests")
    if not set(form.skills) <= set(catalog.skills):
        errors.append("skills")
    event_id = _int(form.event_id) if form.event_id.strip() else None
    if form.event_id.strip() and not _event_fits(session, event_id, association_id):
        errors.append("event")
    slot = check_slot(form.slot, tz, now, errors)
    if errors or slot is None or association_id is None:
        return None, errors
    return OpportunityValues(
        association_id=association_id,
        role=role,
        description=form.description.strip(),
        interests=[c for c in catalog.interests if c in form.interests],
        skills=[c for c in catalog.skills if c in form.skills],
        event_id=event_id,
        slot=slot,
    ), []


def _event_fits(session: Session, event_id: int | None, association_id: int | None) -> bool:
    """An opportunity helps an event of its own association only (which is then in scope)."""
    event = hooks.ask_events_by_id(session, [event_id]).get(event_id) if event_id else None
    return (
        event is not None
        and association_id is not None
        and (event.association_id == association_id)
    )


def _int(text: str) -> int | None:
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value if -2_147_483_648 <= value <= 2_147_483_647 else None
