"""A resident's weekly check-in (見守り) and each week's check-in.

A watch is opt-in and revocable: it holds the consent version the resident agreed to, the
weekday and time they chose, their named 見守り person and when that person accepted (no
check-in is sent before), and a pause for travel. Each week's check-in is one row, created
once per due moment (unique), so the scheduler running twice sends once and tells the
見守り person and the officer once each.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.columns import UTCDateTime, utcnow
from bot.core.models import areas as _areas  # noqa: F401 - watches belong to associations
from bot.core.models import households as _households  # noqa: F401 - or to households
from bot.core.models import residents as _residents  # noqa: F401 - and to residents
from bot.core.models import staff as _staff  # noqa: F401 - entered by officers


class WatcherKind(StrEnum):
    """Who the 見守り person is to the resident."""

    HANCHO = "hancho"
    MINSEI = "minsei"  # 民生委員
    NEIGHBOUR = "neighbour"


class MimamoriWatch(SQLModel, table=True):
    """One resident's weekly check-in (ended_at set: revoked)."""

    __tablename__ = "mimamori_watch"

    id: int | None = Field(default=None, primary_key=True)
    association_id: int = Field(foreign_key="association.id", index=True)
    resident_id: int | None = Field(default=None, foreign_key="resident.id", index=True)
    # A household without LINE, entered by an officer with the household's consent: its
    # check-in goes to the 見守り person, who looks in and taps.
    household_id: int | None = Field(default=None, foreign_key="household.id", index=True)
    entered_by_staff_id: int | None = Field(default=None, foreign_key="staff_account.id")
    weekday: int  # 0 = Monday, in the city's time zone
    minute_of_day: int  # 600 = 10:00
    grace_hours: int = 6
    watcher_id: int | None = Field(default=None, foreign_key="resident.id", index=True)
    watcher_kind: str = Field(default=WatcherKind.HANCHO, max_length=12)
    watcher_accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paused_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consent_version: str = Field(max_length=20)
    consented_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MimamoriCheckin(SQLModel, table=True):
    """One week's check-in of a watch: sent, answered, and who was told when it was not."""

    __tablename__ = "mimamori_checkin"
    __table_args__ = (UniqueConstraint("watch_id", "due_at", name="uq_mimamori_checkin"),)

    id: int | None = Field(default=None, primary_key=True)
    watch_id: int = Field(foreign_key="mimamori_watch.id", index=True)
    due_at: datetime = Field(sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_by_watcher: bool = False
    watcher_told_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    officers_told_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
