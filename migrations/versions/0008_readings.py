"""town.romaji_key: typed romaji ("Ueda 1", "Nakanohashi-dōri") finds its 町丁目 by index;
event.translations: the organiser's English and easy-Japanese title, text and place

Revision ID: 0008_readings
Revises: 0007_event_ops
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_readings"
down_revision: str | None = "0007_event_ops"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = sa.String(length=120).with_variant(sa.String(length=120, collation="C"), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("town", schema=None) as batch_op:
        batch_op.add_column(sa.Column("romaji_key", _KEY, nullable=False, server_default=""))
    with op.batch_alter_table("town", schema=None) as batch_op:
        batch_op.alter_column("romaji_key", server_default=None)
        batch_op.create_index("ix_town_romaji_key", ["romaji_key"], unique=False)
        batch_op.create_index(
            "ix_town_district_romaji_key", ["district_id", "romaji_key"], unique=False
        )
    _fill_romaji_keys()
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("translations", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.alter_column("translations", server_default=None)


def _fill_romaji_keys() -> None:
    """Existing 町丁目 get their key from the reading they already have (as an import would)."""
    from bot.core.town_names import Variants, romaji_town_key

    bind = op.get_bind()
    town = sa.table(
        "town",
        sa.column("id", sa.Integer),
        sa.column("reading", sa.String),
        sa.column("chome", sa.Integer),
        sa.column("romaji_key", sa.String),
    )
    rows = bind.execute(sa.select(town.c.id, town.c.reading, town.c.chome)).all()
    for row in rows:
        if row.reading:
            key = romaji_town_key(row.reading, row.chome, Variants())
            bind.execute(sa.update(town).where(town.c.id == row.id).values(romaji_key=key))


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("translations")
    with op.batch_alter_table("town", schema=None) as batch_op:
        batch_op.drop_index("ix_town_district_romaji_key")
        batch_op.drop_index("ix_town_romaji_key")
        batch_op.drop_column("romaji_key")
