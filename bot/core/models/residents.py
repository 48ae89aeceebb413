"""Residents: the LINE users the bot talks to, what they declared, and when their data goes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.columns import UTCDateTime, utcnow


class ResidentStatus(StrEnum):
    """Whether LINE will deliver to the resident."""

    ACTIVE = "active"
    BLOCKED = "blocked"  # unfollowed: LINE answers 200 to pushes and delivers nothing
    DELETED = "deleted"  # personal data erased on the resident's request


class Resident(SQLModel, table=True):
    """A LINE user who has talked to the bot: the least we need to answer them."""

    id: int | None = Field(default=None, primary_key=True)
    line_user_id: str | None = Field(default=None, unique=True, index=True, max_length=64)
    locale: str = Field(default="ja", max_length=8)
    status: str = Field(default=ResidentStatus.ACTIVE, max_length=16, index=True)
    followed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    unfollowed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PurgeSchedule(SQLModel, table=True):
    """An unfollowed resident whose personal data is erased once `due_at` passes."""

    __tablename__ = "purge_schedule"

    resident_id: int = Field(foreign_key="resident.id", primary_key=True)
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)


class ResidentInterest(SQLModel, table=True):
    """An interest tag a resident chose (子育て, 防災, 見守り …); notices can target a tag.

    The volunteer profile writes these too, so there is one place that says who cares about what.
    """

    __tablename__ = "resident_interest"
    __table_args__ = (UniqueConstraint("resident_id", "tag"), Index("ix_interest_tag", "tag"))

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id")
    tag: str = Field(max_length=32)


class ErasedLineUser(SQLModel, table=True):
    """A LINE user who had their data erased, known only by a one-way digest of their user ID.

    Should they write to the bot again they are a new resident, and `QuietResident` keeps
    broadcasts (surveys, notices, event announcements) from them until they ask again.
    """

    __tablename__ = "erased_line_user"

    digest: str = Field(primary_key=True, max_length=64)
    erased_at: datetime = Field(sa_type=UTCDateTime)


class QuietResident(SQLModel, table=True):
    """A resident back after erasing their data: no broadcast reaches them until they join."""

    __tablename__ = "quiet_resident"

    resident_id: int = Field(foreign_key="resident.id", primary_key=True)
    since: datetime = Field(sa_type=UTCDateTime)
