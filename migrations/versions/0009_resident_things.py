"""held_push: pushes waiting for the end of the recipient's conversation; erased_line_user and
quiet_resident: no broadcast to a resident back after erasing their data (issue 17)

Revision ID: 0009_resident_things
Revises: 0008_readings
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.columns

revision: str = "0009_resident_things"
down_revision: str | None = "0008_readings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "held_push",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=220), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("messages", sa.JSON(), nullable=False),
        sa.Column("not_before", bot.columns.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", bot.columns.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("held_push", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_held_push_resident_id"), ["resident_id"],
                              unique=False)


    op.create_table(
        "erased_line_user",
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("erased_at", bot.columns.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_table(
        "quiet_resident",
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("since", bot.columns.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"]),
        sa.PrimaryKeyConstraint("resident_id"),
    )


def downgrade() -> None:
    op.drop_table("quiet_resident")
    op.drop_table("erased_line_user")
    with op.batch_alter_table("held_push", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_held_push_resident_id"))
    op.drop_table("held_push")
