"""Joining an association: consent, QR sources, applications and memberships, officers.

Personal fields (a member's name, room, phone, the town they gave) live only in
`Membership`; everything else points at residents by id, so erasing those fields and the
resident's LINE user ID leaves counts intact and nobody identifiable.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.models.base import UTCDateTime, utcnow


class ConsentScope(StrEnum):
    """Who sees what a resident agreed to share."""

    ASSOCIATION = "association"  # officers see name and contact, for approval and RSVPs
    CITY = "city"  # the city sees counts only


class ConsentDecision(StrEnum):
    """The resident's answer to the consent text."""

    AGREED = "agreed"
    DECLINED = "declined"


class ConsentRecord(SQLModel, table=True):
    """One answer to one version of the consent text, for one scope."""

    __tablename__ = "consent_record"
    __table_args__ = (Index("ix_consent_record_resident_scope", "resident_id", "scope"),)

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id")
    scope: str = Field(max_length=16)
    decision: str = Field(max_length=16)
    version: str = Field(max_length=32)
    locale: str = Field(max_length=8)  # the language the resident read it in
    decided_at: datetime = Field(sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


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


class MembershipStatus(StrEnum):
    """An application's life: pending, then approved or declined; members later leave."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # the resident withdrew (or erased their data) while pending
    ENDED = "ended"  # a member left, moved to another association or erased their data


class EndReason(StrEnum):
    """Why a membership ended (kept for the tallies, names nobody)."""

    LEFT = "left"
    MOVED = "moved"
    ERASED = "erased"
    PURGED = "purged"  # unfollowed and kept past the retention period


class ContactMethod(StrEnum):
    """How the resident prefers the association to reach them."""

    LINE = "line"
    PHONE = "phone"
    VISIT = "visit"  # in person or in the letterbox (回覧板)


class Membership(SQLModel, table=True):
    """An application to an association and, once approved, the membership itself."""

    __tablename__ = "membership"
    __table_args__ = (
        Index("ix_membership_resident_status", "resident_id", "status"),
        Index("ix_membership_association_status", "association_id", "status"),
        Index("ix_membership_status_applied", "status", "applied_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id")
    association_id: int = Field(foreign_key="association.id")
    source_code_id: int | None = Field(default=None, foreign_key="join_code.id")
    status: str = Field(default=MembershipStatus.PENDING, max_length=16)
    # Personal fields: what the association needs to approve and reach the household.
    # A label, not a foreign key, so the city can re-import its area table freely.
    town_label: str | None = Field(default=None, max_length=100)
    full_name: str | None = Field(default=None, max_length=60)
    room: str | None = Field(default=None, max_length=60)
    phone: str | None = Field(default=None, max_length=20)
    contact_method: str | None = Field(default=None, max_length=16)
    # A count, kept after erasure for the household tallies.
    household_size: int | None = None
    applied_at: datetime = Field(sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by_officer_id: int | None = Field(default=None, foreign_key="officer.id")
    decided_by_staff: str | None = Field(default=None, max_length=64)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    end_reason: str | None = Field(default=None, max_length=16)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Officer(SQLModel, table=True):
    """A resident who approves applications for an association (several are allowed)."""

    __tablename__ = "officer"
    __table_args__ = (UniqueConstraint("resident_id", "association_id"),)

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    association_id: int = Field(foreign_key="association.id", index=True)
    linked_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


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


class PurgeSchedule(SQLModel, table=True):
    """An unfollowed resident whose personal data is erased once `due_at` passes."""

    __tablename__ = "purge_schedule"

    resident_id: int = Field(foreign_key="resident.id", primary_key=True)
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)


class JoinInvitation(SQLModel, table=True):
    """When a subscriber was last invited to join, so invitations stay rare."""

    __tablename__ = "join_invitation"

    resident_id: int = Field(foreign_key="resident.id", primary_key=True)
    last_invited_at: datetime = Field(sa_type=UTCDateTime)
    times: int = 0


class RichMenuRecord(SQLModel, table=True):
    """The LINE rich menu currently serving a role, and the hash of what built it."""

    __tablename__ = "rich_menu"

    role: str = Field(primary_key=True, max_length=16)
    rich_menu_id: str = Field(max_length=80)
    definition_hash: str = Field(max_length=64)
    synced_at: datetime = Field(sa_type=UTCDateTime)


class MembershipTally(SQLModel, table=True):
    """Memberships per association and status, kept in step with `membership` on every flush.

    The staff overview reads these few rows instead of counting the city's memberships per
    request (bot/models/membership_tally.py keeps them; issue 8's benchmark measures it).
    """

    __tablename__ = "membership_tally"

    association_id: int = Field(foreign_key="association.id", primary_key=True)
    status: str = Field(max_length=16, primary_key=True)
    memberships: int = 0  # rows: one per household
    people: int = 0  # sum of household_size
