"""班 (neighbourhood groups) of an association: households, who lives in which 班, its 班長."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.columns import UTCDateTime, utcnow
from bot.core.models import areas as _areas  # noqa: F401 - 班 belong to associations
from bot.core.models import residents as _residents  # noqa: F401 - and hold residents


class HanHouseholds(SQLModel, table=True):
    """How many households a 班 has (LINE or not): the denominator of read coverage."""

    __tablename__ = "han_households"
    __table_args__ = (UniqueConstraint("association_id", "han"),)

    id: int | None = Field(default=None, primary_key=True)
    association_id: int = Field(foreign_key="association.id")
    han: str = Field(default="", max_length=40)
    households: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HanAssignment(SQLModel, table=True):
    """Which 班 a member household belongs to, set by an officer or 班長 (blank: unassigned)."""

    __tablename__ = "han_assignment"
    __table_args__ = (UniqueConstraint("association_id", "resident_id"),)

    id: int | None = Field(default=None, primary_key=True)
    association_id: int = Field(foreign_key="association.id")
    resident_id: int = Field(foreign_key="resident.id", index=True)
    han: str = Field(default="", max_length=40)


class HanLeader(SQLModel, table=True):
    """A member an officer named team leader (班長) of one 班: ticks paper, enters RSVPs.

    Not an `Officer`: a 班長 approves no applications and sees no member list. One live row
    per resident and association; the April hand-over sets `revoked_at`.
    """

    __tablename__ = "han_leader"
    __table_args__ = (UniqueConstraint("association_id", "resident_id"),)

    id: int | None = Field(default=None, primary_key=True)
    association_id: int = Field(foreign_key="association.id")
    resident_id: int = Field(foreign_key="resident.id", index=True)
    han: str = Field(default="", max_length=40)
    appointed_at: datetime = Field(sa_type=UTCDateTime)
    appointed_by_staff: str | None = Field(default=None, max_length=64)  # staff login, for audit
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
