"""han_leader: members an officer named 班長 of a 班, for paper ticks and 代理入力 in LINE

Revision ID: 0004_hancho
Revises: 0003_membership_tally
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.columns

revision: str = "0004_hancho"
down_revision: str | None = "0003_membership_tally"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "han_leader",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("han", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("appointed_at", bot.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("appointed_by_staff", sqlmodel.sql.sqltypes.AutoString(length=64),
                  nullable=True),
        sa.Column("revoked_at", bot.columns.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["association_id"], ["association.id"]),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("association_id", "resident_id"),
    )
    with op.batch_alter_table("han_leader", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_han_leader_resident_id"), ["resident_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("han_leader", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_han_leader_resident_id"))
    op.drop_table("han_leader")
