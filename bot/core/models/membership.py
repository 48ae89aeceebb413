"""Who belongs where: memberships of associations, and the officers who run them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.columns import UTCDateTime
from bot.core.models import areas as _areas  # noqa: F401 - memberships point at associations
from bot.core.models import households as _households  # noqa: F401 - and at their household
from bot.core.models import residents as _residents  # noqa: F401 - and at residents


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
    # The household in the register (世帯名簿) the member belongs to; set on approval, or at
    # once when the resident joined through their household's printed slip.
    household_id: int | None = Field(default=None, foreign_key="household.id", index=True)
    applied_at: datetime = Field(sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by_officer_id: int | None = Field(default=None, foreign_key="officer.id")
    decided_by_staff: str | None = Field(default=None, max_length=64)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    end_reason: str | None = Field(default=None, max_length=16)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    def end(self, reason: EndReason, now: datetime) -> None:
        """Close the membership and drop what only a live membership needed."""
        self.status, self.ended_at, self.end_reason = MembershipStatus.ENDED, now, reason
        self.clear_personal_fields()

    def clear_personal_fields(self) -> None:
        """Blank every field that identifies a person; counts (household size) stay."""
        self.full_name = self.room = self.phone = self.town_label = self.contact_method = None


class Officer(SQLModel, table=True):
    """A resident who approves applications for an association (several are allowed)."""

    __tablename__ = "officer"
    __table_args__ = (UniqueConstraint("resident_id", "association_id"),)

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    association_id: int = Field(foreign_key="association.id", index=True)
    linked_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
