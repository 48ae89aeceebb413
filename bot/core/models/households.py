"""The household register (世帯名簿): every household of an association, on LINE or not.

An association's unit is the household, organised in 班. A household is kept here whether it
reads notices on LINE, on the paper 回覧板, or both; LINE members point at their household
(`Membership.household_id`), several LINE users may share one. Notices (coverage), membership
(approval places a household in a 班, a slip's QR joins into one) and the safety checks all
read this table, so it lives in core.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.columns import UTCDateTime, utcnow
from bot.core.models import areas as _areas  # noqa: F401 - households belong to associations

MAX_ADDRESS = 100
MAX_NAME = 60


class Reach(StrEnum):
    """How notices reach a household."""

    LINE = "line"
    PAPER = "paper"
    BOTH = "both"
    NONE = "none"  # not reached yet: neither on LINE nor on a paper round


class HouseholdSource(StrEnum):
    """Where the row came from: the officer's roster, or a LINE member's application."""

    ROSTER = "roster"
    LINE = "line"


class Household(SQLModel, table=True):
    """One household (世帯) of an association: its 班, address or room, contact and reach."""

    __tablename__ = "household"
    __table_args__ = (
        UniqueConstraint("association_id", "key", name="uq_household_association_key"),
        Index("ix_household_association_han", "association_id", "han"),
    )

    id: int | None = Field(default=None, primary_key=True)
    association_id: int = Field(foreign_key="association.id")
    han: str = Field(default="", max_length=40)
    address: str = Field(default="", max_length=MAX_ADDRESS)  # 住所 or building and room
    contact_name: str = Field(default="", max_length=MAX_NAME)
    people: int | None = None
    reach: str = Field(default=Reach.PAPER, max_length=8)
    language: str = Field(default="ja", max_length=8)
    # The normalised address (or name, without one): what a re-import matches rows on.
    key: str = Field(max_length=120)
    # The code of its printed join slip (drawn when the slip is first printed).
    join_code: str | None = Field(default=None, unique=True, max_length=16)
    source: str = Field(default=HouseholdSource.ROSTER, max_length=8)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RosterMapping(SQLModel, table=True):
    """Which column of an association's own roster file holds which field (remembered)."""

    __tablename__ = "roster_mapping"

    association_id: int = Field(foreign_key="association.id", primary_key=True)
    # {"han": "班", "address": "住所", "contact_name": "氏名", …}: header text per field.
    columns: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
