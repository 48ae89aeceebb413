"""Volunteering: residents' profiles, organisers' opportunities and slots, offers and shifts.

Matching never scores the whole city: `VolunteerMatchKey` holds one row per (profile,
interest, free time bucket) carrying the area the resident is willing to reach, and an index
that ends in `rest_since`, so "who fits this slot and has rested longest" is an index range
read with a LIMIT (see bot/features/volunteers/matching.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.columns import UTCDateTime, utcnow
from bot.core.models import areas as _areas  # noqa: F401 - opportunities point at areas
from bot.core.models import residents as _core  # noqa: F401 - and at residents

# A resident who has never been asked sorts first: the oldest possible "rested since".
NEVER = datetime(2000, 1, 1, tzinfo=UTC)


class Reach(StrEnum):
    """How far a resident will go: each level includes the ones inside it."""

    ASSOCIATION = "association"
    DISTRICT = "district"
    WARD = "ward"


class Bucket(StrEnum):
    """When a resident is free: weekday/weekend × morning/afternoon/evening (Asia/Tokyo)."""

    WEEKDAY_MORNING = "weekday_morning"
    WEEKDAY_AFTERNOON = "weekday_afternoon"
    WEEKDAY_EVENING = "weekday_evening"
    WEEKEND_MORNING = "weekend_morning"
    WEEKEND_AFTERNOON = "weekend_afternoon"
    WEEKEND_EVENING = "weekend_evening"


class VolunteerProfile(SQLModel, table=True):
    """What a resident can comfortably give: interests, skills, free times, a monthly cap."""

    __tablename__ = "volunteer_profile"

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id", unique=True)
    interests: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    skills: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    availability: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    max_per_month: int = Field(default=1, ge=1, le=8)
    reach: str = Field(default=Reach.ASSOCIATION, max_length=16)
    paused: bool = False
    # The resident's area when the profile was saved (from their membership); None: no asks.
    association_id: int | None = Field(default=None, foreign_key="association.id")
    district_id: int | None = Field(default=None, foreign_key="district.id")
    ward_id: int | None = Field(default=None, foreign_key="ward.id")
    # Fairness: the last time they were asked or served (NEVER when not yet).
    rest_since: datetime = Field(default=NEVER, sa_type=UTCDateTime)
    points: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class VolunteerMatchKey(SQLModel, table=True):
    """One (interest, bucket, reachable area) of an active profile: the matching index."""

    __tablename__ = "volunteer_match_key"
    __table_args__ = (
        Index("ix_volunteer_match_lookup", "tag", "bucket", "area_kind", "area_id", "rest_since"),
    )

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="volunteer_profile.id", index=True)
    tag: str = Field(max_length=32)
    bucket: str = Field(max_length=24)
    area_kind: str = Field(max_length=16)  # the profile's reach
    area_id: int  # the profile's association, district or ward id, by reach
    rest_since: datetime = Field(default=NEVER, sa_type=UTCDateTime)


class VolunteerMonth(SQLModel, table=True):
    """How many shifts a profile has committed to in one month: the cap's guard row."""

    __tablename__ = "volunteer_month"
    __table_args__ = (UniqueConstraint("profile_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="volunteer_profile.id")
    month: int  # yyyymm in the city's time zone
    committed: int = 0


class Opportunity(SQLModel, table=True):
    """Something an organiser needs hands for: a role, split into slots."""

    __table_args__ = (Index("ix_opportunity_status", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    role: str = Field(max_length=80)
    description: str = Field(default="", max_length=1000)
    interests: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    needed_skills: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The event it helps, if any: named by table, the events feature's model is not imported.
    event_id: int | None = Field(default=None, foreign_key="event.id", index=True)
    # Where it happens: an association's, a district's or a ward's activity (the narrowest set).
    association_id: int | None = Field(default=None, foreign_key="association.id", index=True)
    district_id: int | None = Field(default=None, foreign_key="district.id")
    ward_id: int = Field(foreign_key="ward.id")
    organiser_staff_id: int | None = None
    organiser_resident_id: int | None = Field(default=None, foreign_key="resident.id")
    status: str = Field(default="open", max_length=16)  # open | closed
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Slot(SQLModel, table=True):
    """One shift of an opportunity: when, where, how many people; `filled` never exceeds it."""

    __table_args__ = (
        CheckConstraint("filled >= 0 AND filled <= needed", name="ck_slot_filled"),
        Index("ix_slot_open", "status", "starts_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    opportunity_id: int = Field(foreign_key="opportunity.id", index=True)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    place: str = Field(default="", max_length=200)
    needed: int = Field(ge=1)
    filled: int = 0
    bucket: str = Field(max_length=24)  # derived from starts_at in the city's time zone
    month: int  # yyyymm of starts_at in the city's time zone
    status: str = Field(default="open", max_length=16)  # open | filled | done | cancelled
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OfferStatus(StrEnum):
    """An ask's life: pending, then answered, timed out, or withdrawn when the slot filled
    (or the organiser cancelled it); an accepted place the resident gave back is cancelled."""

    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"


class VolunteerOffer(SQLModel, table=True):
    """An ask to one resident for one slot (or their own sign-up, `source` = signup)."""

    __tablename__ = "volunteer_offer"
    __table_args__ = (
        UniqueConstraint("slot_id", "resident_id"),
        Index("ix_volunteer_offer_status_expires", "status", "expires_at"),
        Index("ix_volunteer_offer_slot_status", "slot_id", "status"),
        Index("ix_volunteer_offer_profile_month", "profile_id", "month", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slot_id: int = Field(foreign_key="slot.id")
    resident_id: int = Field(foreign_key="resident.id", index=True)
    profile_id: int | None = Field(default=None, foreign_key="volunteer_profile.id")
    month: int
    status: str = Field(default=OfferStatus.OFFERED, max_length=16)
    source: str = Field(default="match", max_length=16)  # match | signup
    score: float = 0.0
    offered_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Shift(SQLModel, table=True):
    """Service record: who came to a slot, for how long, who confirmed, the points earned."""

    __table_args__ = (UniqueConstraint("offer_id"), Index("ix_shift_resident", "resident_id"))

    id: int | None = Field(default=None, primary_key=True)
    offer_id: int = Field(foreign_key="volunteer_offer.id")
    slot_id: int = Field(foreign_key="slot.id", index=True)
    resident_id: int = Field(foreign_key="resident.id")
    attended: bool = True
    hours: float = 0.0
    points: int = 0
    confirmed_by_staff_id: int | None = None
    confirmed_by_resident_id: int | None = Field(default=None, foreign_key="resident.id")
    assumed: bool = False  # nobody confirmed within the grace period
    month: int
    recorded_at: datetime = Field(sa_type=UTCDateTime)
