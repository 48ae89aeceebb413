"""Consent before anything personal: what a resident agreed to share, per version."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from bot.columns import UTCDateTime


class ConsentScope(StrEnum):
    """Who sees what a resident agreed to share."""

    ASSOCIATION = "association"  # officers see name and contact, for approval and RSVPs
    CITY = "city"  # the city sees counts only


class ConsentDecision(StrEnum):
    """The resident's answer to the consent text."""

    AGREED = "agreed"
    DECLINED = "declined"


class ConsentRecord(SQLModel, table=True):
    """One answer to one version of the consent text, for one scope."""

    __tablename__ = "consent_record"
    __table_args__ = (Index("ix_consent_record_resident_scope", "resident_id", "scope"),)

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id")
    scope: str = Field(max_length=16)
    decision: str = Field(max_length=16)
    version: str = Field(max_length=32)
    locale: str = Field(max_length=8)  # the language the resident read it in
    decided_at: datetime = Field(sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
