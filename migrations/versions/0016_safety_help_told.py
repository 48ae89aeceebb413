"""safety checks: when the 班長 was last told of a household's 助けが必要, so a household that
changes its answer to 助けが必要 is told once, however late it comes

Revision ID: 0016_safety_help_told
Revises: 0014_attendance_tally
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.columns

revision: str = "0016_safety_help_told"
down_revision: str | None = "0014_attendance_tally"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("safety_household", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("help_told_at", bot.columns.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("safety_household", schema=None) as batch_op:
        batch_op.drop_column("help_told_at")
