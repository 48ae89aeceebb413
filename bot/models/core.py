"""The platform's own tables: residents, received webhook events, conversation state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from bot.models.base import UTCDateTime, utcnow


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


class EventStatus(StrEnum):
    """Processing state of a received webhook event."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


class WebhookEvent(SQLModel, table=True):
    """One webhook event, stored once per webhookEventId before LINE is acknowledged."""

    __tablename__ = "webhook_event"
    __table_args__ = (Index("ix_webhook_event_pending", "status", "seq"),)

    seq: int | None = Field(default=None, primary_key=True)
    webhook_event_id: str = Field(unique=True, max_length=64)
    event_type: str = Field(max_length=32)
    # Lane key: a pseudonym of the source, so ordering needs no plain user ID in this table.
    source_key: str = Field(max_length=64, index=True)
    # Raw event; cleared once processed so message texts are not kept longer than needed.
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    is_redelivery: bool = False
    status: str = Field(default=EventStatus.PENDING, max_length=16)
    attempts: int = 0
    error: str | None = Field(default=None, max_length=200)
    received_at: datetime = Field(sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Conversation(SQLModel, table=True):
    """Where one resident stands in one flow; expires so stale talks restart cleanly."""

    line_user_id: str = Field(primary_key=True, max_length=64)
    flow: str = Field(max_length=40)
    step: str = Field(max_length=60)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    history: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    version: int = 0
    updated_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
