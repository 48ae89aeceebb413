"""membership_tally: memberships per association and status, for the staff overview

The overview counted the city's memberships on every page view (a scan that grows with
the city; bench/bench_staff.py, issue 8). This table holds the counts, kept in step on
every write by bot/features/membership/tally.py, and is filled here from what exists.

Revision ID: 0003_membership_tally
Revises: 0002_delivery
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003_membership_tally"
down_revision: str | None = "0002_delivery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "membership_tally",
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("memberships", sa.Integer(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["association_id"], ["association.id"]),
        sa.PrimaryKeyConstraint("association_id", "status"),
    )
    op.execute(
        "INSERT INTO membership_tally (association_id, status, memberships, people) "
        "SELECT association_id, status, count(*), coalesce(sum(household_size), 0) "
        "FROM membership GROUP BY association_id, status"
    )


def downgrade() -> None:
    op.drop_table("membership_tally")
