"""Withdrawing queued pushes whose cause went away (a reminder for an event now cancelled).

Only batches still `queued` are withdrawn: a batch a sender has already claimed (`sending`)
is on its way to LINE and is left to finish, so a resident gets a message whole or not at all.
On PostgreSQL the UPDATE waits for a concurrent claim's row lock and then skips the row it
took; on SQLite writers are serialised anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlmodel import Session

from bot.platform.delivery.models import (
    BatchStatus,
    MessageStatus,
    OutboxBatch,
    OutboxMessage,
    OutboxRecipient,
    RecipientStatus,
)

log = logging.getLogger(__name__)

_batch = OutboxBatch.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__
_message = OutboxMessage.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__
_recipient = OutboxRecipient.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__


def _escape(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def withdraw_queued(
    session: Session, *, key_prefixes: Sequence[str], now: datetime, reason: str
) -> int:
    """Withdraw the unsent batches of queued messages whose key starts with a prefix.

    Runs in the caller's transaction (with the cancellation that causes it). Returns how many
    recipients will now not be sent the message. A message left with no batch sent or in
    flight becomes `cancelled`; one partly sent is finished by the sender's periodic sweep.
    """
    if not key_prefixes:
        return 0
    matching = or_(*(_message.c.key.like(_escape(p) + "%", escape="\\") for p in key_prefixes))
    ids = [
        int(i)
        for i in session.execute(
            select(_message.c.id).where(_message.c.status == MessageStatus.QUEUED, matching)
        ).scalars()
    ]
    if not ids:
        return 0
    batches = [
        int(i)
        for i in session.execute(
            update(_batch)
            .where(_batch.c.message_id.in_(ids), _batch.c.status == BatchStatus.QUEUED)
            .values(status=BatchStatus.CANCELLED, error=reason[:200])
            .returning(_batch.c.id)
        ).scalars()
    ]
    withdrawn = 0
    if batches:
        cancelled = session.execute(
            update(_recipient)
            .where(
                _recipient.c.batch_id.in_(batches),
                _recipient.c.status == RecipientStatus.PENDING,
            )
            .values(status=RecipientStatus.CANCELLED)
        )
        withdrawn = int(cast(CursorResult[Any], cancelled).rowcount or 0)  # an UPDATE's result
    mine = _batch.c.message_id == _message.c.id
    session.execute(
        update(_message)
        .where(
            _message.c.id.in_(ids),
            _message.c.status == MessageStatus.QUEUED,
            ~exists().where(and_(mine, _batch.c.status != BatchStatus.CANCELLED)),
        )
        .values(status=MessageStatus.CANCELLED, error=reason[:200], finished_at=now)
    )
    log.info(
        "delivery withdrawn",
        extra={
            "messages": len(ids),
            "batches": len(batches),
            "recipients": withdrawn,
            "reason": reason,
        },
    )
    return withdrawn
