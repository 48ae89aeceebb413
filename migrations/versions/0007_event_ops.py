"""event_ops: one-time form tokens on events, walk-ins and notices (a resubmit stores once)

Revision ID: 0007_event_ops
Revises: 0004_hancho
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007_event_ops"
down_revision: str | None = "0004_hancho"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("event", "walk_in", "notice")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table,
            sa.Column("form_token", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=True),
        )
        op.create_index(f"ix_{table}_form_token", table, ["form_token"], unique=True)


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_form_token", table_name=table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("form_token")
