"""The webhook inbox: each event stored once (by webhookEventId) before LINE is acknowledged."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import bindparam, func, null, or_, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, CursorResult, Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from bot.platform.inbox_models import InboxStatus, WebhookEvent
from bot.platform.observability import metrics
from bot.platform.observability.logs import pseudonym

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "tsunagari_inbox"


_TABLE = WebhookEvent.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__


def _insert_once(dialect: Any) -> Any:
    """INSERT … ON CONFLICT (webhookEventId) DO NOTHING RETURNING seq, values bound per row."""
    columns = (
        "webhook_event_id",
        "event_type",
        "source_key",
        "payload",
        "is_redelivery",
        "status",
        "attempts",
        "received_at",
        "claimed_at",
    )
    return (
        dialect.insert(_TABLE)
        .values({name: bindparam(name, type_=_TABLE.c[name].type) for name in columns})
        .on_conflict_do_nothing(index_elements=["webhook_event_id"])
        .returning(_TABLE.c.seq)
    )


# Built once per dialect (keyed by "is PostgreSQL"): every webhook runs it.
_INSERT_ONCE = {True: _insert_once(postgresql), False: _insert_once(sqlite)}


def _insert_once_notifying() -> Any:
    """PostgreSQL: the insert and, only when it stored the event, NOTIFY, as one statement
    (`WITH stored AS (INSERT … RETURNING seq) SELECT seq, pg_notify(…) FROM stored`).

    Run in autocommit, a webhook's event is one round trip instead of five (BEGIN, INSERT,
    NOTIFY, COMMIT and the pool's ping); the notification is delivered at its commit.
    """
    stored = _insert_once(postgresql).cte("stored")
    return core_select(stored.c.seq, func.pg_notify(NOTIFY_CHANNEL, ""))


_INSERT_ONCE_NOTIFYING = _insert_once_notifying()


class MalformedEvent(ValueError):
    """An event without the fields every LINE event carries."""


def source_key(event: Mapping[str, Any]) -> str:
    """The lane key: events from one chat share it, so they are handled in order."""
    source = event.get("source") or {}
    raw = source.get("userId") or source.get("groupId") or source.get("roomId") or "-"
    return pseudonym(str(raw))


def store_events(
    engine: Engine, events: Sequence[Mapping[str, Any]], now: datetime, *, claim: bool = True
) -> list[tuple[int, str]]:
    """Insert new events; returns (seq, lane key) of those not seen before, in body order.

    Nothing is stored when any event is malformed (MalformedEvent)."""
    rows = [_row(event, now) for event in events]
    if not claim:  # an ingest-only process: any processing replica may take it now
        for row in rows:
            row["claimed_at"] = None
    if engine.dialect.name != "postgresql":
        with engine.begin() as conn:
            return _store(conn, _INSERT_ONCE[False], rows)
    # Each event on its own in autocommit: one stored before a failure is refused as a
    # duplicate when LINE sends the body again.
    statement = _INSERT_ONCE[True] if claim else _INSERT_ONCE_NOTIFYING
    try:
        return _store_autocommit(engine, statement, rows)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        # The database restarted since this connection was last used (db.py pings only
        # idle ones); the pool has been emptied, so the retry gets a new connection.
        log.warning("webhook store retried on a new database connection")
        return _store_autocommit(engine, statement, rows)


def _store_autocommit(
    engine: Engine, statement: Any, rows: list[dict[str, Any]]
) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        return _store(conn, statement, rows)


def _store(conn: Connection, statement: Any, rows: list[dict[str, Any]]) -> list[tuple[int, str]]:
    fresh: list[tuple[int, str]] = []
    for row in rows:
        seq = conn.execute(statement, row).scalar()
        if seq is None:
            metrics.events_duplicate.inc()
            continue
        metrics.events_stored.labels(row["event_type"]).inc()
        fresh.append((int(seq), row["source_key"]))
    return fresh


def _row(event: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    event_id = event.get("webhookEventId")
    event_type = event.get("type")
    if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str):
        raise MalformedEvent("event lacks webhookEventId or type")
    delivery = event.get("deliveryContext") or {}
    return {
        "webhook_event_id": event_id[:64],
        "event_type": event_type[:32],
        "source_key": source_key(event),
        "payload": dict(event),
        "is_redelivery": bool(delivery.get("isRedelivery")),
        "status": InboxStatus.PENDING.value,
        "attempts": 0,
        "received_at": now,
        "claimed_at": now,
    }


@dataclass(frozen=True)
class TakenEvent:
    """A pending event taken for handling inside the caller's transaction."""

    seq: int
    webhook_event_id: str
    event_type: str
    payload: dict[str, Any]


# Built once: they run for every event, so they skip the ORM and statement construction.
_TAKE = core_select(
    _TABLE.c.seq, _TABLE.c.webhook_event_id, _TABLE.c.event_type, _TABLE.c.payload
).where(_TABLE.c.seq == bindparam("seq"), _TABLE.c.status == InboxStatus.PENDING.value)
_TAKE_LOCKED = _TAKE.with_for_update(skip_locked=True)
_FINISH = (
    update(_TABLE)
    .where(_TABLE.c.seq == bindparam("b_seq"), _TABLE.c.status == InboxStatus.PENDING.value)
    .values(
        status=bindparam("b_status"),
        processed_at=bindparam("b_at"),
        error=bindparam("b_error"),
        attempts=_TABLE.c.attempts + 1,
        payload=null(),  # message texts are not kept once handled
    )
)


class AlreadyHandled(Exception):
    """Another process finished the event first; this transaction must not commit."""


def take(session: Session, seq: int) -> TakenEvent | None:
    """The event if it is still pending; on PostgreSQL also row-locked, and None while
    another replica holds it."""
    locked = session.get_bind().dialect.name == "postgresql"
    row = session.execute(_TAKE_LOCKED if locked else _TAKE, {"seq": seq}).first()
    if row is None:
        return None
    return TakenEvent(int(row.seq), row.webhook_event_id, row.event_type, row.payload or {})


def finish(
    session: Session,
    seq: int,
    status: InboxStatus,
    now: datetime,
    outcome: str,
    error: str | None = None,
) -> None:
    """Mark the event handled and forget its payload, in the transaction of its effects.

    Conditional on it still being pending: should two processes ever handle one event (two
    SQLite processes, which have no row locks), the later one raises and rolls back.
    """
    params = {"b_seq": seq, "b_status": status.value, "b_at": now, "b_error": error}
    finished = cast(CursorResult[Any], session.execute(_FINISH, params))  # an UPDATE's result
    if finished.rowcount != 1:
        raise AlreadyHandled(seq)
    metrics.events_processed.labels(outcome).inc()


# Handled in a batch: effects committed with the reply to send, until it is sent.
_REPLYING = (
    update(_TABLE)
    .where(_TABLE.c.seq == bindparam("b_seq"), _TABLE.c.status == InboxStatus.PENDING.value)
    .values(
        status=InboxStatus.REPLYING.value,
        processed_at=bindparam("b_at"),
        attempts=_TABLE.c.attempts + 1,
        payload=bindparam("b_reply", type_=_TABLE.c.payload.type),  # the event's is dropped
    )
)
_REPLIED = (
    update(_TABLE)
    .where(
        _TABLE.c.seq.in_(bindparam("seqs", expanding=True)),
        _TABLE.c.status == InboxStatus.REPLYING.value,
    )
    .values(status=InboxStatus.DONE.value, payload=null())
)


@dataclass(frozen=True)
class UnsentReply:
    """A handled event's reply that was committed but not (known to be) sent."""

    seq: int
    reply_token: str | None
    messages: list[dict[str, Any]]


def finish_replying(
    session: Session, replies: Sequence[tuple[int, str | None, list[dict[str, Any]]]], now: datetime
) -> None:
    """Mark handled events (seq, reply token, messages) as replying, in the transaction of
    their effects: their reply is kept until `replied` so that a crash cannot lose it.
    AlreadyHandled when any of them was finished elsewhere."""
    rows = [
        {"b_seq": seq, "b_at": now, "b_reply": {"replyToken": token, "messages": messages}}
        for seq, token, messages in replies
    ]
    finished = cast(CursorResult[Any], session.execute(_REPLYING, rows))
    if finished.rowcount != len(rows):
        raise AlreadyHandled(rows[0]["b_seq"] if rows else 0)
    metrics.events_processed.labels("done").inc(len(rows))


def replied(engine: Engine, seqs: Sequence[int]) -> None:
    """Their replies went out (or LINE refused them for good): forget the messages."""
    if seqs:
        with engine.begin() as conn:
            mark_replied(conn, seqs)


def mark_replied(conn: Connection | Session, seqs: Sequence[int]) -> None:
    """`replied`, in the caller's transaction."""
    if seqs:
        conn.execute(_REPLIED, {"seqs": list(seqs)})


def unsent_replies(session: Session, older_than: datetime | None) -> list[UnsentReply]:
    """Replies committed but not marked sent: all (the only process), or those of events
    handled before `older_than` (another replica's, which must have died)."""
    query = core_select(_TABLE.c.seq, _TABLE.c.payload).where(
        _TABLE.c.status == InboxStatus.REPLYING.value
    )
    if older_than is not None:
        query = query.where(_TABLE.c.processed_at < older_than)
    found = []
    for seq, payload in session.execute(query.order_by(_TABLE.c.seq)).all():
        token = (payload or {}).get("replyToken")
        messages = (payload or {}).get("messages") or []
        found.append(UnsentReply(int(seq), token if isinstance(token, str) else None, messages))
    return found


def claim_pending(
    session: Session, now: datetime, lease: timedelta | None
) -> list[tuple[int, str]]:
    """Stamp pending events as claimed by this process and return their (seq, lane key),
    oldest first: all of them (single process) or those whose lease ran out (or that no
    one claimed). One statement, so two replicas never claim the same event at once.
    Payloads stay in the table until each is taken."""
    due = _TABLE.c.status == InboxStatus.PENDING.value
    if lease is not None:
        due = due & or_(_TABLE.c.claimed_at.is_(None), _TABLE.c.claimed_at < now - lease)
    if session.get_bind().dialect.name != "postgresql":
        # SQLite's worker looks every moment, and an UPDATE takes the database's write lock
        # even when it matches nothing: look first.
        if session.execute(core_select(_TABLE.c.seq).where(due).limit(1)).first() is None:
            return []
    claim = update(_TABLE).where(due).values(claimed_at=now)
    claim = claim.returning(_TABLE.c.seq, _TABLE.c.source_key)
    rows = session.execute(claim).all()
    return sorted((int(seq), str(key)) for seq, key in rows)


def purge_processed(session: Session, older_than: datetime) -> int:
    """Forget processed events once redelivery can no longer happen."""
    rows = session.exec(
        select(WebhookEvent).where(
            WebhookEvent.status != InboxStatus.PENDING, WebhookEvent.received_at < older_than
        )
    ).all()
    for row in rows:
        session.delete(row)
    return len(rows)
