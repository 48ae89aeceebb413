"""Staff of the city, wards and associations: accounts, their scopes, API tokens, the audit log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.columns import UTCDateTime, utcnow
from bot.core.models import areas as _areas  # noqa: F401 - the wards and associations scopes point at


class StaffRole(StrEnum):
    """What a staff member is; the scope rows say over which wards or associations."""

    CITY_ADMIN = "city_admin"  # everything, city-wide
    WARD_STAFF = "ward_staff"  # reads and exports their wards
    ASSOCIATION_OFFICER = "association_officer"  # approves members, sends notices
    ORGANISER = "organiser"  # their events and notices


class StaffAccount(SQLModel, table=True):
    """A person who logs in to the staff web (or whose API token a staff tool uses)."""

    __tablename__ = "staff_account"

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(unique=True, max_length=64)
    display_name: str = Field(max_length=80)
    role: str = Field(max_length=32)
    password_hash: str = Field(max_length=255)
    locale: str = Field(default="ja", max_length=8)
    active: bool = True
    # Bumped to invalidate every signed session cookie of this account at once.
    session_epoch: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class StaffScope(SQLModel, table=True):
    """One ward or one association an account works for (exactly one of the two is set)."""

    __tablename__ = "staff_scope"
    __table_args__ = (
        CheckConstraint(
            "(ward_id IS NULL) <> (association_id IS NULL)", name="ck_staff_scope_one_target"
        ),
        UniqueConstraint("account_id", "ward_id", "association_id", name="uq_staff_scope"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="staff_account.id", index=True)
    ward_id: int | None = Field(default=None, foreign_key="ward.id")
    association_id: int | None = Field(default=None, foreign_key="association.id", index=True)


class ApiToken(SQLModel, table=True):
    """A bearer token for /api/v1; only its SHA-256 is stored, so a leaked table grants nothing."""

    __tablename__ = "staff_api_token"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="staff_account.id", index=True)
    name: str = Field(max_length=80)
    token_hash: str = Field(unique=True, max_length=64)
    # The first characters, shown in lists so a person can tell tokens apart.
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Tokens end on their own: a forgotten script's token does not work for ever.
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginFailure(SQLModel, table=True):
    """A failed log-in, counted twice: under a hash of the login and of the address."""

    __tablename__ = "staff_login_failure"
    __table_args__ = (Index("ix_staff_login_failure_key_at", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64)
    at: datetime = Field(sa_type=UTCDateTime)


class AuditLog(SQLModel, table=True):
    """Who approved, sent, exported or deleted what, and when; rows are never updated."""

    __tablename__ = "staff_audit_log"
    __table_args__ = (Index("ix_staff_audit_log_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    # Null for actions of the system itself (a CLI run, the demo seed).
    account_id: int | None = Field(default=None, foreign_key="staff_account.id", index=True)
    action: str = Field(max_length=40)
    target_type: str = Field(default="", max_length=40)
    target_id: str = Field(default="", max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
