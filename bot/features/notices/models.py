"""Notices (digital 回覧板): the text per locale, who it went to, stamps and paper rounds."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.columns import UTCDateTime, utcnow
from bot.core.models import areas as _areas  # noqa: F401 - notices point at associations
from bot.core.models import households as _households  # noqa: F401 - coverage per household
from bot.core.models import residents as _residents  # noqa: F401 - and at residents


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
    # The compose form's one-time token: a double submit or back-and-resubmit drafts once.
    form_token: str | None = Field(default=None, max_length=48, unique=True, index=True)
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
    # The register's household (世帯名簿) the recipient belongs to, when it has one.
    household_id: int | None = Field(default=None, foreign_key="household.id", index=True)
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
    # The register's household the tick is for (a typed label matched to it, or a tap).
    household_id: int | None = Field(default=None, foreign_key="household.id", index=True)
    ticked_by_resident_id: int | None = Field(default=None, foreign_key="resident.id")
    ticked_by_staff_id: int | None = None
    at: datetime = Field(sa_type=UTCDateTime)
