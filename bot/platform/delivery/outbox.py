"""Enqueueing pushes: rows written in the caller's transaction, sent later by the sender.

Whatever causes a push (a flow, a staff notice, a scheduler job) calls `enqueue` in its own
transaction, so the push exists exactly when its cause does. The sender, woken right after
the commit, turns the rows into LINE calls.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from itertools import islice
from typing import Any

from sqlalchemy import BigInteger, String, any_, bindparam, event, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from bot.core.models.residents import Resident, ResidentStatus
from bot.platform.delivery import outcomes
from bot.platform.delivery.models import (
    BatchStatus,
    MessageStatus,
    OutboxBatch,
    OutboxMessage,
    OutboxRecipient,
    RecipientStatus,
)
from bot.platform.line import limits

log = logging.getLogger(__name__)

BATCH_SIZE = limits.MAX_MULTICAST_RECIPIENTS

# Wake-up callbacks of the senders running in this process (see `sender.Sender.run`).
_wakers: set[Callable[[], None]] = set()


def register_waker(callback: Callable[[], None]) -> None:
    """Have `callback` run after any transaction that enqueued something commits."""
    _wakers.add(callback)


def unregister_waker(callback: Callable[[], None]) -> None:
    """Stop waking a sender that has stopped."""
    _wakers.discard(callback)


def wake_senders() -> None:
    """Tell this process's senders there is work (other replicas find it by polling)."""
    for callback in list(_wakers):
        callback()


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    recipient_ids: Iterable[int],
    messages: list[dict[str, Any]],
    urgent: bool = False,
    not_before: datetime | None = None,
    now: datetime,
) -> OutboxMessage:
    """Queue `messages` for residents `recipient_ids`, once per `key`, in `session`'s transaction.

    A second call with the same key returns the first message unchanged (a button pressed
    twice sends once). Recipients are split into batches of at most 500, each with its own
    stored retry key; one recipient in all goes by /push, several by /multicast. Residents
    already unfollowed are recorded as unreachable and take no room in a batch; unknown ids
    are ignored. `recipient_ids` is read 500 at a time, so a query's scalars can be passed
    as they stream. This process's senders are woken once the transaction commits.
    Raises `bot.platform.line.limits.LimitError` if LINE would refuse the messages.
    """
    limits.check_messages(messages)
    message, created = _insert_message(session, key, kind, messages, urgent, not_before, now)
    if not created:
        return message
    plan = _BatchPlan(message, due_at=not_before or now)
    for chunk in _chunks(recipient_ids, BATCH_SIZE):
        plan.add(session, chunk)
    plan.flush(session, final=True)
    counts = _counts(session, OutboxRecipient, message.id or 0, RecipientStatus)
    message.recipient_count = sum(counts.values())
    message.batch_count = plan.batches
    if plan.batches == 0:  # nobody reachable: nothing to send
        message.status, message.finished_at = MessageStatus.SENT, now
    session.add(message)
    session.flush()
    event.listen(session, "after_commit", lambda _s: wake_senders(), once=True)
    log.info(
        "delivery enqueued",
        extra={
            "message_id": message.id,
            "kind": kind,
            "recipients": counts[RecipientStatus.PENDING],
            "unreachable": counts[RecipientStatus.UNREACHABLE],
            "batches": plan.batches,
            "urgent": urgent,
        },
    )
    return message


def _find(session: Session, key: str) -> OutboxMessage | None:
    return session.execute(
        select(OutboxMessage).where(col(OutboxMessage.key) == key)
    ).scalar_one_or_none()


def _insert_message(
    session: Session,
    key: str,
    kind: str,
    messages: list[dict[str, Any]],
    urgent: bool,
    not_before: datetime | None,
    now: datetime,
) -> tuple[OutboxMessage, bool]:
    """The message row and whether this call created it (False: the key was taken)."""
    existing = _find(session, key)
    if existing is not None:
        return existing, False
    message = OutboxMessage(
        key=key,
        kind=kind,
        messages=messages,
        urgent=urgent,
        not_before=not_before,
        created_at=now,
    )
    if not _is_postgres(session):
        # SQLite serialises writers, so no concurrent insert can slip in; and pysqlite would
        # commit a SAVEPOINT opened before its own BEGIN, breaking the caller's transaction.
        session.add(message)
        session.flush()
        return message, True
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        # A concurrent transaction enqueued the same key and committed first.
        winner = _find(session, key)
        if winner is None:
            raise
        return winner, False
    return message, True


@dataclass
class _BatchPlan:
    """Fills batches of up to 500 reachable residents as recipient ids stream in."""

    message: OutboxMessage
    due_at: datetime
    pending: list[int] = field(default_factory=list)
    batches: int = 0
    _pending_set: set[int] = field(default_factory=set)

    def add(self, session: Session, chunk: list[int]) -> None:
        """Sort one chunk of ids into reachable (to batch) and unreachable residents."""
        fresh = [rid for rid in dict.fromkeys(chunk) if rid not in self._pending_set]
        statuses = _statuses(session, fresh)
        gone = [rid for rid in fresh if rid in statuses and statuses[rid] != ResidentStatus.ACTIVE]
        _insert_recipients(session, self.message, None, gone, RecipientStatus.UNREACHABLE)
        reachable = [rid for rid in fresh if statuses.get(rid) == ResidentStatus.ACTIVE]
        self.pending.extend(reachable)
        self._pending_set.update(reachable)
        self.flush(session, final=False)

    def flush(self, session: Session, *, final: bool) -> None:
        """Write full batches (and, at the end, the last partial one)."""
        while len(self.pending) >= BATCH_SIZE or (final and self.pending):
            members, self.pending = self.pending[:BATCH_SIZE], self.pending[BATCH_SIZE:]
            self._pending_set.difference_update(members)
            self._write_batch(session, members)

    def _write_batch(self, session: Session, members: list[int]) -> None:
        # Only a message with one recipient in all is a push; any batch of a larger
        # message is a multicast, even a last batch of one.
        single = self.batches == 0 and not self.pending and len(members) == 1
        batch = OutboxBatch(
            message_id=self.message.id or 0,
            endpoint="push" if single else "multicast",
            retry_key=str(uuid.uuid4()),
            urgent=self.message.urgent,
            status=BatchStatus.QUEUED,
            due_at=self.due_at,
        )
        session.add(batch)
        session.flush()
        _insert_recipients(session, self.message, batch.id, members, RecipientStatus.PENDING)
        self.batches += 1


def _statuses(session: Session, resident_ids: list[int]) -> dict[int, str]:
    """Resident id → status, for the ids that exist."""
    if not resident_ids:
        return {}
    if _is_postgres(session):  # one array parameter instead of 500 bound values
        wanted = col(Resident.id) == any_(bindparam("ids", resident_ids, type_=ARRAY(BigInteger)))
    else:
        wanted = col(Resident.id).in_(resident_ids)
    rows = session.execute(select(col(Resident.id), col(Resident.status)).where(wanted)).all()
    return {int(rid): str(status) for rid, status in rows}


def _insert_recipients(
    session: Session,
    message: OutboxMessage,
    batch_id: int | None,
    resident_ids: list[int],
    status: RecipientStatus,
) -> None:
    """Bulk-insert recipient rows, skipping residents the message already has.

    A resident listed twice (far apart, beyond the batch being filled) is kept once by the
    unique (message, resident) key. Core statements keep ORM objects from piling up; on
    PostgreSQL one INSERT … SELECT unnest(array) replaces 500 single-row inserts.
    """
    if not resident_ids:
        return
    table = OutboxRecipient.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__
    columns = ["message_id", "batch_id", "resident_id", "status"]
    unique = ["message_id", "resident_id"]
    if _is_postgres(session):
        rows = select(
            literal(message.id, BigInteger),
            literal(batch_id, BigInteger),
            func.unnest(bindparam("ids", resident_ids, type_=ARRAY(BigInteger))),
            literal(str(status), String),
        )
        statement = postgresql.insert(table).from_select(columns, rows)
        session.execute(statement.on_conflict_do_nothing(index_elements=unique))
        return
    values = [
        {"message_id": message.id, "batch_id": batch_id, "resident_id": rid, "status": status}
        for rid in resident_ids
    ]
    session.execute(sqlite.insert(table).on_conflict_do_nothing(index_elements=unique), values)


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _chunks(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    iterator = iter(ids)
    while chunk := list(islice(iterator, size)):
        yield chunk


@dataclass(frozen=True)
class DeliveryStatus:
    """What became of one outbox message, for staff: counts, never names."""

    message_id: int
    key: str
    kind: str
    status: str
    urgent: bool
    error: str | None
    recipients: dict[str, int]  # pending / sent / unreachable / failed (/ cancelled)
    batches: dict[str, int]  # queued / sending / sent / failed (/ cancelled)
    created_at: datetime
    finished_at: datetime | None

    @property
    def total(self) -> int:
        """Residents the message was addressed to."""
        return sum(self.recipients.values())


def delivery_status(session: Session, message_id: int) -> DeliveryStatus | None:
    """Counts per recipient and batch outcome, and the failure reason if it failed."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        return None
    recipients = _recipient_outcomes(session, message_id)
    batches = _counts(session, OutboxBatch, message_id, BatchStatus)
    return DeliveryStatus(
        message_id=message_id,
        key=message.key,
        kind=message.kind,
        status=message.status,
        urgent=message.urgent,
        error=message.error,
        recipients=recipients,
        batches=batches,
        created_at=message.created_at,
        finished_at=message.finished_at,
    )


def _recipient_outcomes(session: Session, message_id: int) -> dict[str, int]:
    status = outcomes.recipient_outcome()
    query = (
        outcomes.with_batches(select(status, func.count()).select_from(OutboxRecipient))
        .where(col(OutboxRecipient.message_id) == message_id)
        .group_by(status)
    )
    return _shape({str(s): int(n) for s, n in session.execute(query).all()}, RecipientStatus)


def _counts(
    session: Session, model: type[Any], message_id: int, statuses: type[StrEnum]
) -> dict[str, int]:
    rows = session.execute(
        select(model.status, func.count())
        .where(model.message_id == message_id)
        .group_by(model.status)
    ).all()
    return _shape({str(status): int(count) for status, count in rows}, statuses)


def _shape(found: dict[str, int], statuses: type[StrEnum]) -> dict[str, int]:
    # "cancelled" is listed only when something was withdrawn (see withdraw.py), so
    # the usual shape of a status stays pending / sent / unreachable / failed.
    return {
        str(status): found.get(str(status), 0)
        for status in statuses
        if status != "cancelled" or found.get(str(status))
    }
