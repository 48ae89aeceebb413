"""Process stored events after the acknowledgement: one lane per user, lanes in parallel."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

import anyio
from linebot.v3.webhooks import Event, FollowEvent
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from bot.clock import Clock
from bot.content import Content
from bot.conversation.batch import Batcher
from bot.conversation.context import FlowContext
from bot.conversation.engine import Say
from bot.conversation.handlers import route
from bot.conversation.language import locale_for_profile
from bot.conversation.notifier import Notifier
from bot.conversation.pending import PendingReply
from bot.conversation.runner import Runner
from bot.core import residents
from bot.db import is_postgres, session_scope
from bot.platform import inbox
from bot.platform.inbox_models import InboxStatus
from bot.platform.line.gateway import LineGateway, retry_key_for
from bot.platform.line.limits import LimitError
from bot.settings import Settings

log = logging.getLogger(__name__)


class _NeedsProfile(Exception):
    """A first follow: the resident's LINE language must be read before greeting them."""

    def __init__(self, user_id: str) -> None:
        super().__init__(user_id)
        self.user_id = user_id


class Processor:
    """Handles stored events; a crash leaves them pending and `recover` picks them up."""

    def __init__(
        self,
        *,
        engine: Engine,
        settings: Settings,
        content: Content,
        runner: Runner,
        notifier: Notifier,
        gateway: LineGateway,
        clock: Clock,
    ) -> None:
        self.engine, self.settings, self.content = engine, settings, content
        self.runner, self.gateway, self.clock = runner, gateway, clock
        # The process's one Notifier (pushes from flows); replies render with its renderer.
        self.notifier, self.renderer = notifier, notifier.renderer
        self._lanes: list[asyncio.Queue[int]] = []
        self._workers: list[asyncio.Task[None]] = []
        actions = runner.registry.batch_actions
        # Postbacks some feature handles many at once (bot/conversation/batch.py).
        self.batcher = Batcher(self, actions) if actions else None
        self._idle = asyncio.Event()
        self._in_flight = 0

    async def start(self, *, workers: bool = True, take_over: bool = False) -> None:
        """Start the lane workers and requeue whatever a previous process left pending.

        Without workers the process only ingests: events are stored and acknowledged and
        wait in the database for a processing replica (or this one's next start).
        `take_over`: this process replaces one that died (`serve` restarting its worker), so
        the events it had claimed are taken now rather than after their lease runs out;
        should that process still live after all, the inbox's row locks and conditional
        finish keep every event handled once.
        """
        self._lanes = [asyncio.Queue() for _ in range(self.settings.processor_lanes)]
        self.limiter = anyio.CapacityLimiter(handler_threads(self.engine))
        if not workers:
            return
        self._workers = [asyncio.create_task(self._work(q)) for q in self._lanes]
        await self.recover(startup=True, take_over=take_over)
        self._workers.append(asyncio.create_task(self._recover_periodically()))

    async def stop(self) -> None:
        """Stop the workers; unprocessed events stay pending in the database."""
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
        if self.batcher is not None:  # replies under way; any left are sent by the next start
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.batcher.settle(), 5.0)

    def submit(self, seq: int, lane_key: str) -> None:
        """Queue a stored event on its user's lane."""
        if not self._workers:
            return
        lane = int(hashlib.blake2s(lane_key.encode(), digest_size=4).hexdigest(), 16)
        self._in_flight += 1
        self._idle.clear()
        self._lanes[lane % len(self._lanes)].put_nowait(seq)

    @property
    def processes_events(self) -> bool:
        """False in an ingest-only process: its events wait for a processing replica."""
        return bool(self._workers)

    async def _recover_periodically(self) -> None:
        """Take over what another replica (or an ingest-only one) left pending."""
        interval = max(1.0, self.settings.event_lease_seconds / 2)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.recover()
            except Exception:  # noqa: BLE001 - the next round tries again
                log.exception("recovering pending events failed")

    async def take_new(self) -> int:
        """Queue events another process stored for processing replicas (the inbox watcher)."""
        return await self.recover(routine=True)

    async def recover(
        self, *, startup: bool = False, routine: bool = False, take_over: bool = False
    ) -> int:
        """Queue pending events; on PostgreSQL only those whose claim lease ran out."""
        now = self.clock.now()
        # SQLite has one process, so at start-up everything pending is ours; on PostgreSQL
        # another replica may still be working, so wait for its claim lease to run out.
        single = startup and (take_over or not is_postgres(self.engine))
        lease = None if single else timedelta(seconds=self.settings.event_lease_seconds)

        def claim() -> list[tuple[int, str]]:
            with session_scope(self.engine) as session:
                return inbox.claim_pending(session, now, lease)

        found = await run_in_threadpool(claim)
        for seq, key in found:
            self.submit(seq, key)
        if not routine:
            await self._send_unsent(None if single else now - (lease or timedelta()))
        if found:
            log.log(
                logging.DEBUG if routine else logging.INFO,
                "recovered pending events",
                extra={"count": len(found)},
            )
        return len(found)

    async def _send_unsent(self, older_than: datetime | None) -> None:
        """Replies a killed process committed but never sent: by their reply token only (a
        token LINE already took is refused, so nobody gets an answer twice; no push)."""

        def unsent() -> list[inbox.UnsentReply]:
            with session_scope(self.engine) as session:
                return inbox.unsent_replies(session, older_than)

        found = await run_in_threadpool(unsent)

        async def resend(reply: inbox.UnsentReply) -> None:
            if reply.reply_token and reply.messages:
                try:
                    await self.gateway.reply(reply.reply_token, reply.messages)
                except Exception:  # noqa: BLE001 - a reply that cannot go now is given up
                    log.warning("resending a reply failed", extra={"seq": reply.seq})

        await asyncio.gather(*(resend(r) for r in found))
        if found:
            await run_in_threadpool(inbox.replied, self.engine, [r.seq for r in found])
            log.info("sent replies a stopped process left", extra={"count": len(found)})

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until every submitted event has been handled (tests and benchmarks)."""
        if self._in_flight:
            await asyncio.wait_for(self._idle.wait(), timeout)
        if self.batcher is not None:
            await asyncio.wait_for(self.batcher.settle(), timeout)

    async def _work(self, queue: asyncio.Queue[int]) -> None:
        while True:
            seq = await queue.get()
            try:
                if self.batcher is None or not await self.batcher.offer(seq):
                    await self.process(seq)
            except Exception:  # noqa: BLE001 - one bad event must not stop the lane
                log.exception("event processing crashed", extra={"seq": seq})
            finally:
                self._in_flight -= 1
                if self._in_flight == 0:
                    self._idle.set()

    async def process(self, seq: int) -> None:
        """Handle one stored event, then send its replies.

        A new friend's first follow is handled twice: the first attempt only finds that the
        LINE profile's language is needed and rolls back; the profile is read outside any
        transaction (a slow LINE holds no lock), and the follow is handled with it.
        """
        try:
            pending = await anyio.to_thread.run_sync(
                self._handle_in_transaction, seq, None, False, limiter=self.limiter
            )
        except _NeedsProfile as need:
            language = await self._profile_language(need.user_id)
            pending = await anyio.to_thread.run_sync(
                self._handle_in_transaction, seq, language, True, limiter=self.limiter
            )
        if pending is None:
            return
        for callback in pending.after_commit:
            callback()
        if pending.messages:
            if self.batcher is not None:
                await self.batcher.sent_to(pending.user_id)
            await self.send(pending)

    async def _profile_language(self, user_id: str) -> str | None:
        """LINE's language for the user; any failure means "not known" (the default)."""
        try:
            return await self.gateway.get_profile_language(user_id)
        except Exception:  # noqa: BLE001 - a greeting in the default language beats none
            log.warning("reading a LINE profile failed; greeting in the default language")
            return None

    def _handle_in_transaction(
        self, seq: int, profile_language: str | None = None, profile_asked: bool = False
    ) -> PendingReply | None:
        try:
            with session_scope(self.engine) as session:
                taken = inbox.take(session, seq)
                if taken is None:
                    return None
                return self._handle_taken(session, taken, profile_language, profile_asked)
        except _NeedsProfile:
            raise
        except inbox.AlreadyHandled:
            log.warning("event already handled elsewhere; effects rolled back", extra={"seq": seq})
            return None
        except Exception as exc:  # noqa: BLE001 - record, apologise, keep the lane going
            log.exception("event handler failed", extra={"seq": seq})
            return self._record_failure(seq, exc)

    def _handle_taken(
        self,
        session: Session,
        taken: inbox.TakenEvent,
        profile_language: str | None = None,
        profile_asked: bool = False,
    ) -> PendingReply | None:
        now = self.clock.now()
        try:
            event = Event.from_dict(taken.payload)
        except (ValueError, TypeError, AttributeError):
            log.info(
                "unknown or unparsable event acknowledged",
                extra={"type": taken.event_type, "seq": taken.seq},
            )
            inbox.finish(session, taken.seq, InboxStatus.SKIPPED, now, "skipped")
            return None
        handler = route(event)
        user_id = getattr(event.source, "user_id", None) if event.source else None
        if handler is None or user_id is None or getattr(event, "mode", "active") == "standby":
            inbox.finish(session, taken.seq, InboxStatus.SKIPPED, now, "ignored")
            return None
        resident = residents.get_or_create(session, user_id, now, self.settings.default_locale)
        if isinstance(event, FollowEvent) and resident.followed_at is None:
            # Never followed before: greet in the language their LINE app speaks.
            if not profile_asked:
                raise _NeedsProfile(user_id)
            resident.locale = locale_for_profile(
                profile_language, self.content.root, self.settings.default_locale
            )
        ctx = FlowContext(
            session, resident, self.content, self.settings, now, notifier=self.notifier
        )
        says = handler(ctx, event, self.runner)
        messages = self.render(says, resident.locale)
        # Last, so that on SQLite the write lock is taken as late as the handler allows.
        inbox.finish(session, taken.seq, InboxStatus.DONE, now, "done")
        token = getattr(event, "reply_token", None)
        return PendingReply(taken.webhook_event_id, token, user_id, messages, ctx.after_commit)

    def render(self, says: list[Say], locale: str) -> list[dict[str, Any]]:
        """LINE messages for a reply (at most LINE's five)."""
        if len(says) > 5:
            log.error("a reply of %d messages was cut to LINE's 5", len(says))
        return self.renderer.messages(says[:5], locale)

    def _record_failure(self, seq: int, exc: Exception) -> PendingReply | None:
        try:
            with session_scope(self.engine) as session:
                taken = inbox.take(session, seq)
                if taken is None:
                    return None
                error = type(exc).__name__[:200]
                inbox.finish(session, seq, InboxStatus.FAILED, self.clock.now(), "failed", error)
        except inbox.AlreadyHandled:
            return None
        payload = taken.payload
        user_id = (payload.get("source") or {}).get("userId")
        text = self.content.text("common.apology", self.settings.default_locale)
        apology = [{"type": "text", "text": text}]
        return PendingReply(taken.webhook_event_id, payload.get("replyToken"), user_id, apology, [])

    async def send(self, pending: PendingReply) -> None:
        """Reply with the token; push under the event's retry key when it is spent."""
        try:
            if pending.reply_token:
                result = await self.gateway.reply(pending.reply_token, pending.messages)
                if result.outcome != "invalid":
                    return
            if pending.user_id:  # reply token spent or expired: push, idempotently
                await self.gateway.push(
                    pending.user_id, pending.messages, retry_key_for(f"reply:{pending.event_id}")
                )
        except LimitError:
            log.exception("reply would break LINE limits; not sent")


def handler_threads(engine: Engine) -> int:
    """How many events are handled at once (their replies are sent concurrently anyway).

    Handlers are mostly Python holding one GIL. On SQLite a handler holds the database's
    single write lock from its first write to its commit, and a second handler thread only
    stretches that time (it takes the GIL mid-transaction) while webhooks wait to be stored.
    On PostgreSQL a second thread uses the network round trips of the first.
    """
    return 2 if is_postgres(engine) else 1
