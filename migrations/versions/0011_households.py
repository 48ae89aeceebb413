"""household register (世帯名簿): households, roster column mapping, and the household of
members, notice recipients and paper ticks

Revision ID: 0011_households
Revises: 0008_readings
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.columns

revision: str = "0011_households"
down_revision: str | None = "0008_readings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LINKED = ("membership", "notice_recipient", "paper_delivery")


def upgrade() -> None:
    op.create_table(
        "household",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("han", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("contact_name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("people", sa.Integer(), nullable=True),
        sa.Column("reach", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("join_code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("created_at", bot.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.columns.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["association_id"], ["association.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("association_id", "key", name="uq_household_association_key"),
        sa.UniqueConstraint("join_code"),
    )
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.create_index("ix_household_association_han", ["association_id", "han"],
                              unique=False)
    op.create_table(
        "roster_mapping",
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("updated_at", bot.columns.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["association_id"], ["association.id"]),
        sa.PrimaryKeyConstraint("association_id"),
    )
    for table in _LINKED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("household_id", sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{table}_household_id"), ["household_id"],
                                  unique=False)
            batch_op.create_foreign_key(f"fk_{table}_household_id", "household",
                                        ["household_id"], ["id"])


def downgrade() -> None:
    for table in reversed(_LINKED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_household_id", type_="foreignkey")
            batch_op.drop_index(batch_op.f(f"ix_{table}_household_id"))
            batch_op.drop_column("household_id")
    op.drop_table("roster_mapping")
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.drop_index("ix_household_association_han")
    op.drop_table("household")
