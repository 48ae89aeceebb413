"""Postbacks that a feature handles many at a time, before the conversation engine.

When everyone taps the same kind of button in the same minutes (a safety check's 無事), the
general path costs one transaction, one resident load, one ORM unit of work and one
conversation-state read per tap. A feature may register a *batch action* for a postback
prefix (`Registry.on_batch`): the processor then gathers the pending events of that kind
from all lanes for a moment and handles them in one transaction —

    take the events (still pending; row-locked on PostgreSQL) → look up their residents →
    the feature's handler (core SQL, one statement per batch) → mark them replying, with
    their replies → commit → send each reply → mark them done

— with the same guarantees as the general path: an event is finished in the transaction of
its effects (so it counts once, and a replayed webhook is a duplicate the inbox refused), and
replies are sent after the commit. Kept with the event until sent, a reply outlives a worker
killed in between: its successor sends it with the same reply token, which LINE takes once.
Whatever the batch does not recognise (another event type, an unknown resident, data the
feature's handler declines by answering None) goes on to the general path untouched, so
forged or stale data still gets the standard answer there.
Per-user order holds because a lane waits for its event's batch before taking the next.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import anyio
from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.conversation import postback
from bot.conversation.engine import Say
from bot.conversation.pending import PendingReply
from bot.core.models.residents import Resident
from bot.db import is_postgres, session_scope
from bot.platform import inbox
from bot.platform.inbox_models import InboxStatus, WebhookEvent

log = logging.getLogger(__name__)

BATCH_MAX = 64  # events in one transaction
BATCH_WINDOW_S = 0.01  # how long the first event waits for others to join it
# Replies sent are marked so in the next batch's transaction (one less per batch), or on
# their own after this long without one.
MARK_SENT_AFTER_S = 1.0


@dataclass(frozen=True)
class Tap:
    """One postback for a batch action: the resident who tapped and the parsed data."""

    seq: int
    resident_id: int
    locale: str
    data: Mapping[str, str]


# (session, taps, now) -> per tap: the replies, or None to leave it to the general path.
# It must change nothing for a tap it answers None for.
BatchAction = Callable[[Session, Sequence[Tap], datetime], Sequence[list[Say] | None]]

_EVENTS = WebhookEvent.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__
_RESIDENTS = Resident.__table__  # type: ignore[attr-defined]
# In arrival order: two answers for one household in a batch leave the later one.
_TAKE = (
    core_select(_EVENTS.c.seq, _EVENTS.c.webhook_event_id, _EVENTS.c.payload)
    .where(
        _EVENTS.c.seq.in_(bindparam("seqs", expanding=True)),
        _EVENTS.c.status == InboxStatus.PENDING.value,
    )
    .order_by(_EVENTS.c.seq)
)
_TAKE_LOCKED = _TAKE.with_for_update(skip_locked=True)
_RESIDENTS_OF = core_select(_RESIDENTS.c.line_user_id, _RESIDENTS.c.id, _RESIDENTS.c.locale).where(
    _RESIDENTS.c.line_user_id.in_(bindparam("users", expanding=True))
)


class BatchHost(Protocol):
    """What a batch needs of the processor that runs it."""

    engine: Engine
    clock: Clock
    limiter: anyio.CapacityLimiter

    def render(self, says: list[Say], locale: str) -> list[dict[str, Any]]:
        """The LINE messages for the replies, in the resident's language."""
        ...

    async def send(self, pending: PendingReply) -> None:
        """Send a reply once its transaction has committed."""
        ...


class Batcher:
    """Gathers events offered by the lanes and handles those it can as one transaction."""

    def __init__(self, processor: BatchHost, actions: Mapping[str, BatchAction]) -> None:
        self.processor, self.actions = processor, dict(actions)
        self._waiting: list[tuple[int, asyncio.Future[bool]]] = []
        self._flush: asyncio.Task[None] | None = None
        self.handled = 0  # events handled in batches (tests, benchmarks)
        self._replying: set[asyncio.Task[None]] = set()
        self._last_reply: dict[str, asyncio.Future[None]] = {}
        self._sent: list[int] = []  # events whose replies went, not yet marked so
        self._mark_sent: asyncio.Task[None] | None = None

    async def offer(self, seq: int) -> bool:
        """True when the event was handled here (or by someone else already); False when
        the general path must handle it."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((seq, future))
        if len(self._waiting) >= BATCH_MAX:
            self._start_flush(now=True)
        elif self._flush is None:
            self._start_flush(now=False)
        return await future

    def _start_flush(self, *, now: bool) -> None:
        if now and self._flush is not None:
            self._flush.cancel()  # its sleep only; it had not taken anything yet
        self._flush = asyncio.create_task(self._run(0.0 if now else BATCH_WINDOW_S))

    async def _run(self, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        self._flush = None
        batch, self._waiting = self._waiting[:BATCH_MAX], self._waiting[BATCH_MAX:]
        if self._waiting:
            self._start_flush(now=False)
        futures = dict(batch)
        sent, self._sent = self._sent, []
        try:
            handled, replies = await anyio.to_thread.run_sync(
                self._handle, list(futures), sent, limiter=self.processor.limiter
            )
        except Exception:  # noqa: BLE001 - the general path handles them one by one instead
            log.exception("batch handling failed; events go the general way")
            handled, replies = None, []
        if handled is None:  # rolled back, with the marks it carried
            handled = set()
            self._queue_sent(sent)
        self.handled += len(handled)
        if handled:
            # The lanes go on at once rather than hold 32 events still for LINE's round trip
            # (they would then cap a surge at ~32 answers per reply latency); the replies
            # follow, each user's after their previous one.
            sends = self._start_sending(replies)
            task = asyncio.create_task(self._reply(replies, sends, sorted(handled)))
            self._replying.add(task)
            task.add_done_callback(self._replying.discard)
        for seq, future in futures.items():
            if not future.done():
                future.set_result(seq in handled)

    def _start_sending(self, replies: list[PendingReply]) -> list[asyncio.Future[None]]:
        """Start each reply after the user's previous one; known as the user's last reply
        before any lane goes on (see `sent_to`)."""
        sends: list[asyncio.Future[None]] = []
        for reply in replies:
            before = self._last_reply.get(reply.user_id or "")
            send = asyncio.ensure_future(self._send_after(before, reply))
            if reply.user_id:
                self._last_reply[reply.user_id] = send
            sends.append(send)
        return sends

    async def sent_to(self, user_id: str | None) -> None:
        """Wait until the replies of batches to this user have gone, so that a reply from
        the general path to their next message cannot overtake them."""
        before = self._last_reply.get(user_id or "")
        if before is not None:
            await asyncio.wait([before])  # its outcome is its own

    async def _reply(
        self, replies: list[PendingReply], sends: list[asyncio.Future[None]], seqs: list[int]
    ) -> None:
        await asyncio.gather(*sends, return_exceptions=True)
        for reply, send in zip(replies, sends, strict=True):
            if reply.user_id and self._last_reply.get(reply.user_id) is send:
                del self._last_reply[reply.user_id]
        self._queue_sent(seqs)

    def _queue_sent(self, seqs: list[int]) -> None:
        """Queue sent replies to be marked with the next batch, or on their own soon."""
        if not seqs:
            return
        self._sent.extend(seqs)
        if self._mark_sent is None:
            self._mark_sent = asyncio.create_task(self._mark_sent_after_pause())

    async def _mark_sent_after_pause(self) -> None:
        try:
            await asyncio.sleep(MARK_SENT_AFTER_S)
        finally:
            self._mark_sent = None
        await self._mark_sent_now()

    async def _mark_sent_now(self) -> None:
        seqs, self._sent = self._sent, []
        if not seqs:  # a batch took them meanwhile
            return
        try:
            await anyio.to_thread.run_sync(inbox.replied, self.processor.engine, seqs)
        except Exception:  # noqa: BLE001 - left replying: a restart tries the token again
            log.exception("marking batch replies sent failed")

    async def _send_after(self, before: asyncio.Future[None] | None, reply: PendingReply) -> None:
        if before is not None:
            await asyncio.wait([before])  # its outcome is its own
        await self.processor.send(reply)

    async def settle(self) -> None:
        """Wait until the replies of handled batches have gone and are marked so (tests,
        shutdown)."""
        while self._replying:
            await asyncio.gather(*list(self._replying), return_exceptions=True)
        if self._mark_sent is not None:
            self._mark_sent.cancel()
            self._mark_sent = None
        if self._sent:
            await self._mark_sent_now()

    def _handle(
        self, seqs: list[int], sent: list[int]
    ) -> tuple[set[int] | None, list[PendingReply]]:
        """The events handled and their replies, committed with the marks of replies `sent`
        before; None when it rolled back (marks included)."""
        engine = self.processor.engine
        now = self.processor.clock.now()
        try:
            with session_scope(engine) as session:
                inbox.mark_replied(session, sent)
                take = _TAKE_LOCKED if is_postgres(engine) else _TAKE
                rows = session.execute(take, {"seqs": seqs}).all()
                candidates = [
                    c
                    for c in (_candidate(r) for r in rows)
                    if c is not None and c.data.get("a") in self.actions
                ]
                if not candidates:
                    return set(), []
                users = sorted({c.user_id for c in candidates})
                residents = {
                    u: (int(i), str(loc))
                    for u, i, loc in session.execute(_RESIDENTS_OF, {"users": users}).all()
                }
                by_action: dict[str, list[tuple[_Candidate, Tap]]] = {}
                for c in candidates:
                    if c.user_id in residents:
                        rid, locale = residents[c.user_id]
                        tap = Tap(c.seq, rid, locale, c.data)
                        by_action.setdefault(c.data["a"], []).append((c, tap))
                replies: list[PendingReply] = []
                for action, taps in by_action.items():
                    answers = self.actions[action](session, [t for _c, t in taps], now)
                    for (c, tap), says in zip(taps, answers, strict=True):
                        if says is None:
                            continue
                        messages = self.processor.render(says, tap.locale)
                        replies.append(
                            PendingReply(c.event_id, c.reply_token, c.user_id, messages, [])
                        )
                if not replies:
                    return set(), []
                seq_of = {c.event_id: c.seq for c in candidates}
                inbox.finish_replying(
                    session,
                    [(seq_of[r.event_id], r.reply_token, r.messages) for r in replies],
                    now,
                )
                return {seq_of[r.event_id] for r in replies}, replies
        except inbox.AlreadyHandled:
            log.warning("batch finished elsewhere in part; rolled back, going one by one")
            return None, []


@dataclass(frozen=True)
class _Candidate:
    seq: int
    event_id: str
    user_id: str
    reply_token: str | None
    data: Mapping[str, str]


def _candidate(row: Any) -> _Candidate | None:
    """The event as a postback for the batch, or None (the general path takes it)."""
    payload = row.payload or {}
    if payload.get("type") != "postback" or payload.get("mode", "active") == "standby":
        return None
    user_id = (payload.get("source") or {}).get("userId")
    raw = (payload.get("postback") or {}).get("data")
    if not isinstance(user_id, str) or not isinstance(raw, str):
        return None
    try:
        data = postback.decode(raw)
    except ValueError:
        return None
    token = payload.get("replyToken")
    return _Candidate(
        int(row.seq),
        str(row.webhook_event_id),
        user_id,
        token if isinstance(token, str) else None,
        data,
    )
