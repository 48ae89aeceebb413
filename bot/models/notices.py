"""Notices (digital 回覧板): the text per locale, who it went to, stamps and paper rounds."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.models import areas as _areas  # noqa: F401 - events and notices point at associations
from bot.models import core as _core  # noqa: F401 - and at residents
from bot.models.base import UTCDateTime, utcnow


class NoticeStatus(StrEnum):
    """A notice is sent at most once: `sending` is claimed by exactly one transaction."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"


class Notice(SQLModel, table=True):
    """One circular: Japanese text plus optional translations, an audience, an optional event."""

    __table_args__ = (Index("ix_notice_status_scheduled", "status", "scheduled_at"),)

    id: int | None = Field(default=None, primary_key=True)
    association_id: int | None = Field(default=None, foreign_key="association.id", index=True)
    # "notice", or "event_announcement" (one per event: announcing twice sends once).
    kind: str = Field(default="notice", max_length=24)
    title: str = Field(max_length=120)
    body: str = Field(max_length=4000)
    # {"en": {"title": …, "body": …}, "ja-easy": {…}}; missing locales fall back to `body`.
    translations: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    image_url: str | None = Field(default=None, max_length=500)
    event_id: int | None = Field(default=None, foreign_key="event.id")
    audience: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    ack_requested: bool = False
    urgent: bool = False  # a disaster notice goes through quiet hours
    scheduled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default=NoticeStatus.DRAFT, max_length=16)
    author_staff_id: int | None = None
    author_resident_id: int | None = Field(default=None, foreign_key="resident.id")
    recipient_count: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NoticeRecipient(SQLModel, table=True):
    """A resident a notice went to by LINE, with the association and 班 it counts for."""

    __tablename__ = "notice_recipient"
    __table_args__ = (
        UniqueConstraint("notice_id", "resident_id"),
        Index("ix_notice_recipient_assoc", "notice_id", "association_id", "han"),
    )

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id")
    resident_id: int = Field(foreign_key="resident.id", index=True)
    association_id: int | None = None
    han: str = Field(default="", max_length=40)
    household_key: str = Field(default="", max_length=64)  # residents of one household share it
    locale: str = Field(default="ja", max_length=8)


class NoticeAck(SQLModel, table=True):
    """確認しました: the LINE equivalent of a stamp on the paper 回覧板."""

    __tablename__ = "notice_ack"
    __table_args__ = (UniqueConstraint("notice_id", "resident_id"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    resident_id: int = Field(foreign_key="resident.id")
    at: datetime = Field(sa_type=UTCDateTime)


class PaperDelivery(SQLModel, table=True):
    """A household without LINE that a team leader (班長) ticked as handed the paper copy."""

    __tablename__ = "paper_delivery"
    __table_args__ = (UniqueConstraint("notice_id", "association_id", "han", "household"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    association_id: int = Field(foreign_key="association.id")
    han: str = Field(default="", max_length=40)
    household: str = Field(max_length=60)  # a label the 班長 knows (house number), not a name
    ticked_by_resident_id: int | None = Field(default=None, foreign_key="resident.id")
    ticked_by_staff_id: int | None = None
    at: datetime = Field(sa_type=UTCDateTime)


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


class ResidentInterest(SQLModel, table=True):
    """An interest tag a resident chose (子育て, 防災, 見守り …); notices can target a tag.

    The volunteer profile writes these too, so there is one place that says who cares about what.
    """

    __tablename__ = "resident_interest"
    __table_args__ = (UniqueConstraint("resident_id", "tag"), Index("ix_interest_tag", "tag"))

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id")
    tag: str = Field(max_length=32)


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
