"""The webhook inbox's table: each received event, stored once by webhookEventId."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from bot.columns import UTCDateTime


class InboxStatus(StrEnum):
    """Processing state of a received webhook event."""

    PENDING = "pending"
    # Handled and committed, its reply (kept in `payload`) not yet sent: a process killed
    # in between leaves it for the next one to send (see `inbox.unsent_replies`).
    REPLYING = "replying"
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
    status: str = Field(default=InboxStatus.PENDING, max_length=16)
    attempts: int = 0
    error: str | None = Field(default=None, max_length=200)
    received_at: datetime = Field(sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
