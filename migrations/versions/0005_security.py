"""security: API tokens expire; events get an unguessable calendar link token

Revision ID: 0005_security
Revises: 0004_hancho

Existing tokens get 30 days from the upgrade (time to issue new ones); existing events
each get a fresh random calendar token (calendar links sent before stop working: they
carried only the sequential id anyone could count).
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.columns

revision: str = "0005_security"
down_revision: str | None = "0004_hancho"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXISTING_TOKEN_DAYS = 30


def upgrade() -> None:
    with op.batch_alter_table("staff_api_token", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expires_at", bot.columns.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("calendar_token", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
    conn = op.get_bind()
    tokens = sa.table(
        "staff_api_token",
        sa.column("id", sa.Integer()),
        sa.column("expires_at", bot.columns.UTCDateTime(timezone=True)),
    )
    until = datetime.now(UTC) + timedelta(days=EXISTING_TOKEN_DAYS)
    conn.execute(tokens.update().where(tokens.c.expires_at.is_(None)).values(expires_at=until))
    events = sa.table(
        "event",
        sa.column("id", sa.Integer()),
        sa.column("calendar_token", sa.String(32)),
    )
    for (event_id,) in conn.execute(sa.select(events.c.id)).all():
        conn.execute(
            events.update()
            .where(events.c.id == event_id)
            .values(calendar_token=secrets.token_urlsafe(16))
        )
    with op.batch_alter_table("staff_api_token", schema=None) as batch_op:
        batch_op.alter_column(
            "expires_at", existing_type=bot.columns.UTCDateTime(timezone=True), nullable=False
        )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.alter_column(
            "calendar_token",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=32),
            nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("calendar_token")
    with op.batch_alter_table("staff_api_token", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
