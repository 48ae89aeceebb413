"""Events residents are invited to, their RSVPs, waitlist offers and check-ins at the venue."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.columns import UTCDateTime, utcnow
from bot.core.models import areas as _areas  # noqa: F401 - events and notices point at associations
from bot.core.models import residents as _core  # noqa: F401 - and at residents


class EventStatus(StrEnum):
    """Life of an event: only published events take RSVPs."""

    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


def new_calendar_token() -> str:
    """A fresh calendar link token (128 random bits)."""
    return secrets.token_urlsafe(16)


class Event(SQLModel, table=True):
    """Something an association holds: a festival, a drill (防災訓練), a clean-up, a café."""

    __table_args__ = (Index("ix_event_status_start", "status", "starts_at"),)

    id: int | None = Field(default=None, primary_key=True)
    association_id: int | None = Field(default=None, foreign_key="association.id", index=True)
    title: str = Field(max_length=120)
    category: str = Field(default="other", max_length=32)  # festival, drill, cleanup, cafe, …
    description: str = Field(default="", max_length=2000)
    place: str = Field(default="", max_length=200)
    latitude: float | None = None
    longitude: float | None = None
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    capacity: int | None = None  # people (adults + children); None: no limit
    headcount_allowed: bool = False  # a reply may bring others (adults/children)
    max_party: int = 6
    rsvp_deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Who is invited, in the same shape as a notice's audience (see services.notices.Audience).
    audience: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    image_url: str | None = Field(default=None, max_length=500)
    # The organiser's English and easy-Japanese versions: {"en": {"title": …,
    # "description": …, "place": …}, "ja-easy": {…}} (bot.core.translated).
    translations: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    status: str = Field(default=EventStatus.DRAFT, max_length=16)
    # Organiser: a staff account (staff web) or a resident (LINE organiser flow).
    organiser_staff_id: int | None = None
    organiser_resident_id: int | None = Field(default=None, foreign_key="resident.id")
    # Unguessable; printed in the venue's check-in QR.
    checkin_code: str = Field(unique=True, max_length=32)
    # Unguessable; the `.ics` link carries it, so nobody reads events by counting ids.
    calendar_token: str = Field(default_factory=new_calendar_token, max_length=32)
    revision: int = 0  # bumped by every published edit
    # The create form's one-time token: a double submit or back-and-resubmit stores one event.
    form_token: str | None = Field(default=None, max_length=48, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RsvpAnswer(StrEnum):
    """A resident's answer; `waitlisted` is what `going` becomes over capacity."""

    GOING = "going"
    MAYBE = "maybe"
    NOT = "not"
    WAITLISTED = "waitlisted"


class Rsvp(SQLModel, table=True):
    """One resident's answer to one event, changed in place until the deadline."""

    __table_args__ = (
        UniqueConstraint("event_id", "resident_id"),
        Index("ix_rsvp_event_answer", "event_id", "answer"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id")
    resident_id: int = Field(foreign_key="resident.id", index=True)
    answer: str = Field(max_length=16)
    adults: int = 1
    children: int = 0
    needs: str = Field(default="", max_length=300)  # wheelchair, sign language, allergies …
    # 代理入力: who entered it when not the resident (a 班長 in LINE or a staff account).
    entered_by_resident_id: int | None = Field(default=None, foreign_key="resident.id")
    entered_by_staff_id: int | None = None
    # For 代理入力 of a resident without LINE: how the 班長 knows them (e.g. "3班 山田").
    proxy_label: str = Field(default="", max_length=60)
    waitlisted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def party(self) -> int:
        """People this answer brings."""
        return self.adults + self.children


class WaitlistOfferStatus(StrEnum):
    """A freed place offered to the first on the waitlist."""

    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # the resident cancelled or the event was cancelled


class WaitlistOffer(SQLModel, table=True):
    """A place held for one waitlisted resident until `expires_at`."""

    __tablename__ = "waitlist_offer"
    __table_args__ = (Index("ix_waitlist_offer_open", "status", "expires_at"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    rsvp_id: int = Field(foreign_key="rsvp.id")
    resident_id: int = Field(foreign_key="resident.id")
    party: int = 1  # places held
    status: str = Field(default=WaitlistOfferStatus.OPEN, max_length=16)
    offered_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CheckIn(SQLModel, table=True):
    """A resident marked present, by the venue QR or by an organiser."""

    __tablename__ = "check_in"
    __table_args__ = (UniqueConstraint("event_id", "resident_id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    method: str = Field(default="qr", max_length=16)  # qr / staff
    marked_by_staff_id: int | None = None
    at: datetime = Field(sa_type=UTCDateTime)


class WalkIn(SQLModel, table=True):
    """Unregistered people counted at the door (no names: only how many)."""

    __tablename__ = "walk_in"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    adults: int = 0
    children: int = 0
    recorded_by_staff_id: int | None = None
    # The door page's one-time token per button: a double tap counts the people once.
    form_token: str | None = Field(default=None, max_length=48, unique=True, index=True)
    at: datetime = Field(sa_type=UTCDateTime)


class AttendanceTally(SQLModel, table=True):
    """Per resident and host association: events attended and the earliest one's start.

    The 参加の広がり page and the council report read these rows instead of every check-in
    of the city (busiest 10 %'s share; "first time anywhere" is the resident's earliest
    `first_starts_at` over their rows). Kept in step with `check_in` and `event.starts_at` by
    bot/features/events/attendance_tally.py in the same transaction; status-blind, like the
    figures it serves. `association_key` is the event's association id, 0 for none.
    """

    __tablename__ = "attendance_tally"

    resident_id: int = Field(foreign_key="resident.id", primary_key=True)
    association_key: int = Field(primary_key=True, index=True)
    attended: int = 0  # check-ins at this association's events
    first_starts_at: datetime = Field(sa_type=UTCDateTime)  # earliest such event's start


class EventAttendance(SQLModel, table=True):
    """Per event: residents checked in, and of them first-timers (no check-in at any event
    that started earlier), kept in step with `attendance_tally` by the same module."""

    __tablename__ = "event_attendance"

    event_id: int = Field(foreign_key="event.id", primary_key=True)
    checked_in: int = 0
    first_timers: int = 0
