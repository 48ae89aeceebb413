"""A safety check (安否確認) and one row per household it covers.

The check snapshots its households when it is sent: every household of the register in the
area (LINE or paper only), and members on LINE not (yet) placed in a household. An answer,
from LINE or from a 班長's visit, updates that one row, so each household counts once however
many of its people answer or how often they change it, and the live counts are one grouped
read of one table.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.columns import UTCDateTime, utcnow
from bot.core.models import areas as _areas  # noqa: F401 - checks cover areas
from bot.core.models import households as _households  # noqa: F401 - one row per household
from bot.core.models import residents as _residents  # noqa: F401 - answered by residents
from bot.core.models import staff as _staff  # noqa: F401 - started by staff

MAX_NOTE = 200


class SafetyState(StrEnum):
    """What is known of a household."""

    NONE = "none"  # no answer yet
    SAFE = "safe"  # 無事
    HELP = "help"  # 助けが必要
    AWAY = "away"  # 不在・避難中


ANSWERS = (SafetyState.SAFE, SafetyState.HELP, SafetyState.AWAY)


class AreaKind(StrEnum):
    """The area a check covers."""

    CITY = "city"
    WARD = "ward"
    DISTRICT = "district"
    ASSOCIATION = "association"


class SafetyCheck(SQLModel, table=True):
    """One safety check: its area and message; sent once; escalation stages as they pass."""

    __tablename__ = "safety_check"

    id: int | None = Field(default=None, primary_key=True)
    area_kind: str = Field(max_length=16)
    area_id: int | None = None  # None for the whole city
    template: str = Field(max_length=40)  # content/messages/<locale>/safety.yaml templates
    # Minutes after sending: unanswered to the 班長, then unanswered 班 to officers, then ward.
    visit_after_minutes: int = 30
    officer_after_minutes: int = 60
    ward_after_minutes: int = 120
    created_by_staff_id: int | None = Field(default=None, foreign_key="staff_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    households: int = 0
    recipients: int = 0
    hancho_told_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    officers_told_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ward_told_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SafetyHousehold(SQLModel, table=True):
    """A household of a check and what is known of it (one row, updated in place)."""

    __tablename__ = "safety_household"
    __table_args__ = (
        UniqueConstraint("check_id", "household_id", name="uq_safety_household"),
        UniqueConstraint("check_id", "resident_id", name="uq_safety_resident"),
        Index("ix_safety_household_check_han", "check_id", "association_id", "han"),
    )

    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(foreign_key="safety_check.id")
    association_id: int = Field(foreign_key="association.id")
    han: str = Field(default="", max_length=40)
    # The register's household; or, for a member not placed in one, the member alone.
    household_id: int | None = Field(default=None, foreign_key="household.id", index=True)
    resident_id: int | None = Field(default=None, foreign_key="resident.id", index=True)
    on_line: bool = False  # some member of it got the check in LINE
    state: str = Field(default=SafetyState.NONE, max_length=8)
    people: int | None = None
    note: str = Field(default="", max_length=MAX_NOTE)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_by: int | None = Field(default=None, foreign_key="resident.id")
    visited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    visited_by: int | None = Field(default=None, foreign_key="resident.id")
    # When its 班長 (or, with no 班長, its officers) was told of its 助けが必要; cleared when
    # it stops being one to visit, so the next change to 助けが必要 is told again, once.
    help_told_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
