"""Joining: QR join codes, where residents came from, officer link codes, invitations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.columns import UTCDateTime, utcnow
from bot.core.models import membership as _membership  # noqa: F401 - tallies point at associations


class JoinCodeKind(StrEnum):
    """Where a printed QR code hangs."""

    COUNTER = "counter"  # a ward's moving-in counter (転入窓口)
    ASSOCIATION = "association"  # an association's own poster
    CAMPAIGN = "campaign"  # a one-off campaign (a festival stand, a leaflet run)


class JoinCode(SQLModel, table=True):
    """A short unguessable code carried by a QR code, naming its source for the funnel."""

    __tablename__ = "join_code"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=16)
    kind: str = Field(max_length=16, index=True)
    counter_id: int | None = Field(default=None, foreign_key="moving_in_counter.id", index=True)
    association_id: int | None = Field(default=None, foreign_key="association.id", index=True)
    label: str = Field(default="", max_length=80)  # a campaign's name, shown to staff
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ResidentSource(SQLModel, table=True):
    """A resident arrived through a code: once per resident and code, first time kept."""

    __tablename__ = "resident_source"
    __table_args__ = (UniqueConstraint("resident_id", "join_code_id"),)

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    join_code_id: int = Field(foreign_key="join_code.id", index=True)
    # False when the resident had followed the bot long before scanning.
    new_friend: bool = True
    first_seen_at: datetime = Field(sa_type=UTCDateTime)


class OfficerLinkCode(SQLModel, table=True):
    """A one-time code from the staff web that makes whoever sends it an officer.

    Only a hash is stored: the code is shown once to staff, and a leaked table cannot be
    used to become an officer.
    """

    __tablename__ = "officer_link_code"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(unique=True, max_length=64)
    association_id: int = Field(foreign_key="association.id", index=True)
    created_by: str | None = Field(default=None, max_length=64)  # staff account, for audit
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by_officer_id: int | None = Field(default=None, foreign_key="officer.id")


class JoinInvitation(SQLModel, table=True):
    """When a subscriber was last invited to join, so invitations stay rare."""

    __tablename__ = "join_invitation"

    resident_id: int = Field(foreign_key="resident.id", primary_key=True)
    last_invited_at: datetime = Field(sa_type=UTCDateTime)
    times: int = 0


class MembershipTally(SQLModel, table=True):
    """Memberships per association and status, kept in step with `membership` on every flush.

    The staff overview reads these few rows instead of counting the city's memberships per
    request (bot/features/membership/tally.py keeps them; issue 8's benchmark measures it).
    """

    __tablename__ = "membership_tally"

    association_id: int = Field(foreign_key="association.id", primary_key=True)
    status: str = Field(max_length=16, primary_key=True)
    memberships: int = 0  # rows: one per household
    people: int = 0  # sum of household_size
