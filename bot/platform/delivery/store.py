"""The sender's database work: claim due batches with their recipients, record outcomes.

Each function is one short transaction (SQLAlchemy Core: no ORM objects pile up), run from
a worker thread. A claim commits before LINE is called and the outcome is recorded in a
second transaction, so a sender killed in between leaves a `sending` batch that is claimed
again after its lease and re-sent with the same retry key.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, select, text, update
from sqlalchemy.engine import Connection, Engine

from bot.core.models.residents import Resident, ResidentStatus
from bot.platform.delivery.models import (
    BatchStatus,
    MessageStatus,
    OutboxBatch,
    OutboxMessage,
    RecipientStatus,
)
from bot.platform.delivery.models import OutboxRecipient as _Recipient

_batch = OutboxBatch.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__
_message = OutboxMessage.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__
_recipient = _Recipient.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__
_resident = Resident.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__
_WAITING = (BatchStatus.QUEUED, BatchStatus.SENDING)


@dataclass(frozen=True)
class Claim:
    """A batch this sender holds, with what it needs to call LINE."""

    batch_id: int
    message_id: int
    kind: str
    endpoint: str
    retry_key: str
    token: str
    claims: int
    failures: int
    messages: list[dict[str, Any]]
    urgent: bool = False


@dataclass(frozen=True)
class Audience:
    """A batch's pending recipients as they stood when it was claimed."""

    reachable: list[str]  # LINE user IDs of residents who still follow the bot
    unreachable: list[int]  # outbox_recipient ids of residents who unfollowed or were erased


@dataclass(frozen=True)
class Outcome:
    """What a call came to, in the terms the outbox records."""

    delivered: bool
    final: bool  # no point trying again (refused, quota spent, broken content)
    status: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class Recorded:
    """What `record` wrote, for metrics and logs."""

    applied: bool
    batch_status: str = ""
    sent: int = 0
    unreachable: int = 0
    failed: int = 0
    retry_in: float | None = None


def claim_due(engine: Engine, now: datetime, limit: int) -> list[tuple[Claim, Audience]]:
    """Take up to `limit` due batches, most urgent then oldest, with their recipients.

    One UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) … RETURNING: on PostgreSQL
    concurrent senders skip each other's rows; on SQLite the statement takes the write lock
    first, so two threads cannot pick the same row either.
    """
    token = str(uuid.uuid4())
    due = (
        select(_batch.c.id)
        .where(_batch.c.status == BatchStatus.QUEUED, _batch.c.due_at <= now)
        .order_by(_batch.c.urgent.desc(), _batch.c.id)
        .limit(limit)
    )
    if engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claim = (
        update(_batch)
        .where(_batch.c.id.in_(due.scalar_subquery()))
        .values(
            status=BatchStatus.SENDING,
            claimed_at=now,
            claim_token=token,
            claims=_batch.c.claims + 1,
        )
        .returning(
            _batch.c.id,
            _batch.c.message_id,
            _batch.c.endpoint,
            _batch.c.retry_key,
            _batch.c.claims,
            _batch.c.failures,
            _batch.c.urgent,
        )
    )
    with _transaction(engine) as conn:
        rows = sorted(conn.execute(claim).all(), key=lambda r: (not r.urgent, r.id))
        if not rows:
            return []
        messages = _messages(conn, {r.message_id for r in rows})
        audiences = _audiences(conn, [r.id for r in rows])
    return [
        (
            Claim(
                r.id,
                r.message_id,
                messages[r.message_id][0],
                r.endpoint,
                r.retry_key,
                token,
                r.claims,
                r.failures,
                messages[r.message_id][1],
                bool(r.urgent),
            ),
            audiences.get(r.id, Audience([], [])),
        )
        for r in rows
    ]


def defer(engine: Engine, claim: Claim, until: datetime) -> bool:
    """Give a claimed batch back to the queue until `until` (quiet hours, quota hold).

    Not a failure and not a claim: the batch keeps its retry key and its counters.
    """
    with _transaction(engine) as conn:
        done = conn.execute(
            update(_batch)
            .where(_batch.c.id == claim.batch_id, _batch.c.claim_token == claim.token)
            .values(
                status=BatchStatus.QUEUED,
                due_at=until,
                claimed_at=None,
                claim_token=None,
                claims=_batch.c.claims - 1,
            )
        )
        return bool(done.rowcount)


@contextmanager
def _transaction(engine: Engine) -> Iterator[Connection]:
    """A claim's or a record's transaction; on PostgreSQL it does not wait for the disk.

    Losing the last moments of these commits in a database crash is harmless: the batch is
    claimed and sent again with its stored retry key, and LINE answers 409 if it had it.
    Waiting for each commit's fsync, on the other hand, caps how many calls a second the
    sender can record.
    """
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL synchronous_commit TO OFF"))
        yield conn


def _messages(conn: Connection, ids: set[int]) -> dict[int, tuple[str, list[dict[str, Any]]]]:
    query = select(_message.c.id, _message.c.kind, _message.c.messages).where(
        _message.c.id.in_(ids)
    )
    return {row.id: (row.kind, list(row.messages)) for row in conn.execute(query)}


def _audiences(conn: Connection, batch_ids: list[int]) -> dict[int, Audience]:
    """Pending recipients of the batches (at most 500 each), split by reachability."""
    query = (
        select(_recipient.c.id, _recipient.c.batch_id, _resident.c.line_user_id, _resident.c.status)
        .join(_resident, _resident.c.id == _recipient.c.resident_id)
        .where(_recipient.c.batch_id.in_(batch_ids), _recipient.c.status == RecipientStatus.PENDING)
        .order_by(_recipient.c.batch_id, _recipient.c.id)
    )
    reachable: dict[int, list[str]] = defaultdict(list)
    unreachable: dict[int, list[int]] = defaultdict(list)
    for rid, batch_id, user_id, status in conn.execute(query):
        if user_id and status == ResidentStatus.ACTIVE:
            reachable[batch_id].append(user_id)
        else:
            unreachable[batch_id].append(rid)
    return {b: Audience(reachable[b], unreachable[b]) for b in batch_ids}


def requeue_expired(engine: Engine, now: datetime, lease: timedelta | None) -> int:
    """Return batches whose sender died (lease ran out; None: all) to the queue, key kept."""
    stale = _batch.c.status == BatchStatus.SENDING
    if lease is not None:
        stale = and_(stale, _batch.c.claimed_at < now - lease)
    with engine.begin() as conn:
        result = conn.execute(
            update(_batch).where(stale).values(status=BatchStatus.QUEUED, due_at=now)
        )
        return int(result.rowcount or 0)


def count_waiting(engine: Engine) -> int:
    """Batches queued or being sent (the deliveries_queued gauge)."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(_batch).where(_batch.c.status.in_(_WAITING))
            ).scalar_one()
        )


def anything_waiting(engine: Engine) -> bool:
    """Whether any batch is still queued or being sent, due or not."""
    with engine.connect() as conn:
        return (
            conn.execute(select(_batch.c.id).where(_batch.c.status.in_(_WAITING)).limit(1)).first()
            is not None
        )


@dataclass(frozen=True)
class Report:
    """One call's outcome, waiting to be recorded (see `record_many`)."""

    claim: Claim
    audience: Audience
    outcome: Outcome
    retry_delay: float = 0.0


def record(
    engine: Engine,
    claim: Claim,
    audience: Audience,
    outcome: Outcome,
    now: datetime,
    *,
    max_failures: int,
    retry_delay: float,
) -> Recorded:
    """Write one call's outcome for its batch (and so its recipients) and, when last, its message.

    Ignored when another sender has claimed the batch since (our lease ran out): its resend
    carries the same retry key, so LINE delivered at most once and its record stands.
    """
    report = Report(claim, audience, outcome, retry_delay)
    return record_many(engine, [report], now, max_failures=max_failures)[0]


def record_many(
    engine: Engine, reports: Sequence[Report], now: datetime, *, max_failures: int
) -> list[Recorded]:
    """`record` for several calls in one transaction: the sender records the calls that
    finished while it was recording the previous ones together, instead of paying a
    transaction per call. Each is guarded by its own claim, as in `record`."""
    with _transaction(engine) as conn:
        results = [_record_in(conn, report, now, max_failures) for report in reports]
        ended = {
            report.claim.message_id
            for report, result in zip(reports, results, strict=True)
            if result.applied and result.batch_status != BatchStatus.QUEUED
        }
        if ended:
            finish_messages(conn, now, ended)
    return results


def _record_in(conn: Connection, report: Report, now: datetime, max_failures: int) -> Recorded:
    claim, audience, outcome = report.claim, report.audience, report.outcome
    if outcome.delivered:
        change: dict[str, Any] = {"status": BatchStatus.SENT, "sent_at": now, "error": None}
    elif outcome.final or claim.failures + 1 >= max_failures:
        failures = claim.failures + (0 if outcome.final else 1)
        change = {
            "status": BatchStatus.FAILED,
            "failures": failures,
            "error": _reason(outcome, failures),
        }
    else:
        change = {
            "status": BatchStatus.QUEUED,
            "failures": claim.failures + 1,
            "error": outcome.detail[:200] or None,
            "due_at": now + timedelta(seconds=report.retry_delay),
        }
    # The guard: only the current holder of the claim may record.
    held = conn.execute(
        update(_batch)
        .where(
            _batch.c.id == claim.batch_id,
            _batch.c.claim_token == claim.token,
            _batch.c.status.in_(_WAITING),
        )
        .values(last_status=outcome.status, **change)
    )
    if held.rowcount != 1:
        return Recorded(False)
    if change["status"] == BatchStatus.QUEUED:  # recipients stay pending for the retry
        return Recorded(True, BatchStatus.QUEUED, retry_in=report.retry_delay)
    # The batch's status is its pending recipients' outcome (bot/platform/delivery/outcomes.py);
    # only those who became unreachable since the enqueue get a row change.
    unreachable = _set_unreachable(conn, audience.unreachable)
    done = len(audience.reachable)
    sent, failed = (done, 0) if outcome.delivered else (0, done)
    return Recorded(True, change["status"], sent=sent, unreachable=unreachable, failed=failed)


def _set_unreachable(conn: Connection, ids: Sequence[int]) -> int:
    if not ids:
        return 0
    return int(
        conn.execute(
            update(_recipient)
            .where(_recipient.c.id.in_(ids), _recipient.c.status == RecipientStatus.PENDING)
            .values(status=RecipientStatus.UNREACHABLE)
        ).rowcount
    )


def _reason(outcome: Outcome, failures: int) -> str:
    parts = [f"LINE answered {outcome.status}"] if outcome.status else []
    if outcome.detail:
        parts.append(outcome.detail)
    text = ": ".join(parts) or "no answer from LINE"
    if not outcome.final:
        text = f"gave up after {failures} failed tries; last: {text}"
    return text[:200]


def finish_messages(
    conn: Connection, now: datetime, message_ids: Collection[int] | None = None
) -> int:
    """Mark messages whose batches have all ended: failed (with the first reason) or sent.

    Called after each record for its message and swept periodically for all: two senders
    recording a message's last two batches at once may each see the other's as unfinished.
    """
    mine = _batch.c.message_id == _message.c.id
    failed = select(_batch.c.error).where(mine, _batch.c.status == BatchStatus.FAILED)
    condition = and_(
        _message.c.status == MessageStatus.QUEUED,
        exists().where(mine),
        ~exists().where(mine, _batch.c.status.in_(_WAITING)),
    )
    if message_ids is not None:
        condition = and_(condition, _message.c.id.in_(sorted(message_ids)))
    result = conn.execute(
        update(_message)
        .where(condition)
        .values(
            status=case((exists(failed), MessageStatus.FAILED), else_=MessageStatus.SENT),
            error=failed.order_by(_batch.c.id).limit(1).scalar_subquery(),
            finished_at=now,
        )
    )
    return int(result.rowcount or 0)


def sweep_finished(engine: Engine, now: datetime) -> int:
    """Finish every message whose batches have all ended (see `finish_messages`)."""
    with engine.begin() as conn:
        return finish_messages(conn, now)
