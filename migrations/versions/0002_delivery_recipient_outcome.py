"""Recipients take their batch's outcome: drop outbox_recipient.sent_at.

The sender no longer rewrites each recipient row when a batch is sent (see
bot/platform/delivery/outcomes.py); the batch's sent_at is the recipients' too.

Revision ID: 0002_delivery
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.columns import UTCDateTime

revision: str = "0002_delivery"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Settle recipients of finished batches, then drop the per-recipient timestamp."""
    op.execute(
        "UPDATE outbox_recipient SET status = 'pending' WHERE status IN ('sent', 'failed') "
        "AND batch_id IS NOT NULL"
    )
    with op.batch_alter_table("outbox_recipient") as batch:
        batch.drop_column("sent_at")


def downgrade() -> None:
    """Bring the column back (empty) and write the batch outcome onto its recipients."""
    with op.batch_alter_table("outbox_recipient") as batch:
        batch.add_column(sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE outbox_recipient SET status = (SELECT b.status FROM outbox_batch b "
        "WHERE b.id = outbox_recipient.batch_id), sent_at = (SELECT b.sent_at FROM outbox_batch b "
        "WHERE b.id = outbox_recipient.batch_id) WHERE status = 'pending' AND batch_id IN "
        "(SELECT id FROM outbox_batch WHERE status IN ('sent', 'failed'))"
    )
