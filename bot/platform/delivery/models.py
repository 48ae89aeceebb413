"""The delivery outbox: a message, its batches of at most 500 recipients, and each recipient.

Rows are written in the transaction of whatever caused the push; the sender reads them
afterwards, so a crash on either side neither loses nor repeats a delivery.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.columns import UTCDateTime, utcnow


class MessageStatus(StrEnum):
    """Where a whole outbox message stands."""

    QUEUED = "queued"  # batches wait or are being sent
    SENT = "sent"  # every batch ended and none failed
    FAILED = "failed"  # at least one batch gave up; `error` says why
    CANCELLED = "cancelled"  # withdrawn before any batch was sent (its cause went away)


class BatchStatus(StrEnum):
    """Where one API call's worth of recipients stands."""

    QUEUED = "queued"
    SENDING = "sending"  # claimed by a sender; reclaimed when its lease runs out
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"  # withdrawn while still queued: never sent


class RecipientStatus(StrEnum):
    """What became of one resident in one message (`sent`/`failed` read from the batch)."""

    PENDING = "pending"
    SENT = "sent"
    UNREACHABLE = "unreachable"  # unfollowed (or erased) before the send
    FAILED = "failed"
    CANCELLED = "cancelled"  # the message was withdrawn before its batch was sent


class OutboxMessage(SQLModel, table=True):
    """One push, multicast or notice fan-out; `key` makes enqueueing it idempotent."""

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=40, index=True)
    messages: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    urgent: bool = False
    status: str = Field(default=MessageStatus.QUEUED, max_length=16, index=True)
    recipient_count: int = 0
    batch_count: int = 0
    error: str | None = Field(default=None, max_length=200)
    not_before: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxBatch(SQLModel, table=True):
    """One API call: its endpoint, its stored retry key, and its claim by a sender."""

    __tablename__ = "outbox_batch"
    __table_args__ = (
        Index("ix_outbox_batch_due", "status", "urgent", "id"),
        Index("ix_outbox_batch_claimed", "status", "claimed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(
        sa_column=Column(
            ForeignKey("outbox_message.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    endpoint: str = Field(max_length=16)  # "push" or "multicast"
    # Sent as X-Line-Retry-Key on every try, across crashes and senders.
    retry_key: str = Field(max_length=36, unique=True)
    urgent: bool = False
    status: str = Field(default=BatchStatus.QUEUED, max_length=16)
    due_at: datetime = Field(sa_type=UTCDateTime)
    claims: int = 0  # times a sender took it (a crash leaves a claim without an outcome)
    failures: int = 0  # calls that ended without LINE accepting them
    claim_token: str | None = Field(default=None, max_length=36)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status: int | None = None  # LINE's last HTTP status for this batch
    error: str | None = Field(default=None, max_length=200)


class OutboxRecipient(SQLModel, table=True):
    """One resident of one message: never twice, whatever happens."""

    __tablename__ = "outbox_recipient"
    __table_args__ = (UniqueConstraint("message_id", "resident_id"),)

    # BIGINT on PostgreSQL (a city sends millions of these); SQLite needs INTEGER for rowid.
    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    )
    message_id: int = Field(
        sa_column=Column(ForeignKey("outbox_message.id", ondelete="CASCADE"), nullable=False)
    )
    # None for residents already unreachable when the message was enqueued.
    batch_id: int | None = Field(
        default=None,
        sa_column=Column(ForeignKey("outbox_batch.id", ondelete="CASCADE"), index=True),
    )
    resident_id: int = Field(
        sa_column=Column(ForeignKey("resident.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    # Stays `pending` while the batch decides (its outcome is theirs: see
    # bot/delivery/outcomes.py); set here only for what is theirs alone (`unreachable`).
    status: str = Field(default=RecipientStatus.PENDING, max_length=16)


class QuotaSnapshot(SQLModel, table=True):
    """LINE's monthly message quota and consumption as last read, one row per month."""

    __tablename__ = "quota_snapshot"

    month: str = Field(primary_key=True, max_length=7)  # YYYY-MM in the city's time zone
    limit: int | None = None  # None: LINE reports no limit for the plan
    used: int = 0
    taken_at: datetime = Field(sa_type=UTCDateTime)
    warned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the 80% warning
    holding_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
