"""The conversation layer's tables: each resident's flow state, rich menus registered."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from bot.columns import UTCDateTime


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


class RichMenuRecord(SQLModel, table=True):
    """The LINE rich menu currently serving a role, and the hash of what built it."""

    __tablename__ = "rich_menu"

    role: str = Field(primary_key=True, max_length=16)
    rich_menu_id: str = Field(max_length=80)
    definition_hash: str = Field(max_length=64)
    synced_at: datetime = Field(sa_type=UTCDateTime)


class HeldPush(SQLModel, table=True):
    """A push waiting for its recipient's conversation to end or expire.

    LINE shows quick-reply chips only under the newest message, so a push arriving in the
    middle of a flow would take away the chips of the question being answered. The Notifier
    holds such a push here; it is queued in the outbox, under `key`, once the conversation
    ends (store.save_state) or expires (the release job).
    """

    __tablename__ = "held_push"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=220, unique=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    kind: str = Field(max_length=40)
    messages: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    not_before: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
