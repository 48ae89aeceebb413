"""safety checks (安否確認): a check per area and one row per household it covers; 見守り:
weekly check-ins with their named 見守り person, one row per week

Revision ID: 0012_safety
Revises: 0011_households
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.columns

revision: str = "0012_safety"
down_revision: str | None = "0011_households"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, bot.columns.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "safety_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("template", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("visit_after_minutes", sa.Integer(), nullable=False),
        sa.Column("officer_after_minutes", sa.Integer(), nullable=False),
        sa.Column("ward_after_minutes", sa.Integer(), nullable=False),
        sa.Column("created_by_staff_id", sa.Integer(), nullable=True),
        _when("created_at", nullable=False),
        _when("sent_at"),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        _when("hancho_told_at"),
        _when("officers_told_at"),
        _when("ward_told_at"),
        _when("closed_at"),
        sa.ForeignKeyConstraint(["created_by_staff_id"], ["staff_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "safety_household",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("han", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("on_line", sa.Boolean(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("people", sa.Integer(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        _when("answered_at"),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        _when("visited_at"),
        sa.Column("visited_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["check_id"], ["safety_check.id"]),
        sa.ForeignKeyConstraint(["association_id"], ["association.id"]),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"]),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"]),
        sa.ForeignKeyConstraint(["answered_by"], ["resident.id"]),
        sa.ForeignKeyConstraint(["visited_by"], ["resident.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("check_id", "household_id", name="uq_safety_household"),
        sa.UniqueConstraint("check_id", "resident_id", name="uq_safety_resident"),
    )
    with op.batch_alter_table("safety_household", schema=None) as batch_op:
        batch_op.create_index(
            "ix_safety_household_check_han", ["check_id", "association_id", "han"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_safety_household_household_id"), ["household_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_safety_household_resident_id"), ["resident_id"], unique=False
        )

    op.create_table(
        "mimamori_watch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("entered_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("minute_of_day", sa.Integer(), nullable=False),
        sa.Column("grace_hours", sa.Integer(), nullable=False),
        sa.Column("watcher_id", sa.Integer(), nullable=True),
        sa.Column("watcher_kind", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        _when("watcher_accepted_at"),
        _when("paused_until"),
        sa.Column("consent_version", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        _when("consented_at", nullable=False),
        _when("created_at", nullable=False),
        _when("ended_at"),
        sa.ForeignKeyConstraint(["association_id"], ["association.id"]),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"]),
        sa.ForeignKeyConstraint(["watcher_id"], ["resident.id"]),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"]),
        sa.ForeignKeyConstraint(["entered_by_staff_id"], ["staff_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("mimamori_watch", schema=None) as batch_op:
        for column in ("association_id", "resident_id", "household_id", "watcher_id"):
            batch_op.create_index(batch_op.f(f"ix_mimamori_watch_{column}"), [column], unique=False)
    op.create_table(
        "mimamori_checkin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("watch_id", sa.Integer(), nullable=False),
        _when("due_at", nullable=False),
        _when("answered_at"),
        sa.Column("answered_by_watcher", sa.Boolean(), nullable=False),
        _when("watcher_told_at"),
        _when("officers_told_at"),
        sa.ForeignKeyConstraint(["watch_id"], ["mimamori_watch.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("watch_id", "due_at", name="uq_mimamori_checkin"),
    )
    with op.batch_alter_table("mimamori_checkin", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mimamori_checkin_watch_id"), ["watch_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("mimamori_checkin", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mimamori_checkin_watch_id"))
    op.drop_table("mimamori_checkin")
    with op.batch_alter_table("mimamori_watch", schema=None) as batch_op:
        for column in ("watcher_id", "household_id", "resident_id", "association_id"):
            batch_op.drop_index(batch_op.f(f"ix_mimamori_watch_{column}"))
    op.drop_table("mimamori_watch")
    with op.batch_alter_table("safety_household", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_safety_household_resident_id"))
        batch_op.drop_index(batch_op.f("ix_safety_household_household_id"))
        batch_op.drop_index("ix_safety_household_check_han")
    op.drop_table("safety_household")
    op.drop_table("safety_check")
