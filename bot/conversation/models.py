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
