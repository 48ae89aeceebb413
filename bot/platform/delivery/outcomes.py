"""What became of each recipient: their batch's outcome unless one was recorded for them alone.

The sender records a call's outcome once, on its batch, instead of rewriting the batch's
500 recipient rows: on PostgreSQL that rewrite (≈18 µs a row, every index touched) cost more
database time than the rate limit leaves per call. A recipient row changes only for what is
theirs alone (unreachable: they unfollowed or were erased before the send). Everything that
reports per-recipient outcomes reads them through `recipient_outcome`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, select
from sqlalchemy.sql import ColumnElement, Select

from bot.platform.delivery.models import BatchStatus, OutboxBatch, OutboxRecipient, RecipientStatus

_batch = OutboxBatch.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__
_recipient = OutboxRecipient.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__


def recipient_outcome() -> ColumnElement[Any]:
    """A recipient's status (`RecipientStatus` values), given a join to their batch.

    Use with `with_batches` (an outer join: recipients unreachable at enqueue have no batch).
    """
    return case(
        (
            and_(
                _recipient.c.status == RecipientStatus.PENDING, _batch.c.status == BatchStatus.SENT
            ),
            RecipientStatus.SENT.value,
        ),
        (
            and_(
                _recipient.c.status == RecipientStatus.PENDING,
                _batch.c.status == BatchStatus.FAILED,
            ),
            RecipientStatus.FAILED.value,
        ),
        else_=_recipient.c.status,
    )


def with_batches(query: Select[Any]) -> Select[Any]:
    """`query` (selecting from outbox_recipient) joined to each recipient's batch."""
    return query.outerjoin(_batch, _batch.c.id == _recipient.c.batch_id)


def sent_resident_ids(message_ids: Select[Any]) -> Select[Any]:
    """Residents LINE accepted a message for, among the messages `message_ids` selects."""
    return (
        select(_recipient.c.resident_id)
        .join(_batch, _batch.c.id == _recipient.c.batch_id)
        .where(
            _recipient.c.message_id.in_(message_ids.scalar_subquery()),
            _recipient.c.status == RecipientStatus.PENDING,
            _batch.c.status == BatchStatus.SENT,
        )
    )
