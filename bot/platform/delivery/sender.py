"""The sender: claims due outbox batches, calls LINE within its rate limits, records outcomes.

Several senders may run against PostgreSQL (one per replica); they never claim the same
batch. On SQLite exactly one runs: a lock file beside the database makes a second one wait.
Woken right after an enqueue commits in this process, otherwise it polls.
"""

from __future__ import annotations

import asyncio
import logging
import random
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from sqlmodel import Session

from bot.clock import Clock, SystemClock
from bot.platform.delivery import outbox, send_policy, store
from bot.platform.delivery.ratelimit import EndpointLimits
from bot.platform.delivery.recorder import GroupRecorder
from bot.platform.delivery.singleton import SqliteSenderLock
from bot.platform.delivery.store import Audience, Claim, Outcome
from bot.platform.line.gateway import LineGateway, SendResult
from bot.platform.line.limits import LimitError
from bot.platform.observability import metrics

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sqlalchemy.engine import Engine

    from bot.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_RETRY_DELAY_S = 15 * 60.0
UPKEEP_EVERY_S = 5.0
QUOTA_RECHECK = timedelta(hours=1)  # a quota hold is looked at again this often
# LINE's quota is read hourly by the scheduler; re-reading the stored reading for every batch
# of a 200-batch notice cost more than recording the batches.
QUOTA_CACHE_S = 10.0
ABANDON_AFTER_CLAIMS_FACTOR = 3  # claims without an outcome, per allowed failure


class Sender:
    """Turns outbox batches into LINE calls; `start`/`stop` in the app, `run` in the CLI."""

    def __init__(
        self,
        *,
        engine: Engine,
        gateway: LineGateway,
        settings: Settings,
        clock: Clock | None = None,
        limits: EndpointLimits | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.engine, self.gateway, self.settings = engine, gateway, settings
        self.clock = clock or SystemClock()
        self.limits = limits or EndpointLimits.from_rates(
            {"multicast": settings.delivery_multicast_rate, "push": settings.delivery_push_rate},
            settings.delivery_rate_burst,
        )
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._last_upkeep = float("-inf")
        self._executor: ThreadPoolExecutor | None = None
        self._policy = send_policy.Policy.from_settings(settings)
        self._recorder = GroupRecorder(self._record_group)
        self._quota: tuple[float, str, send_policy.Quota | None] | None = None

    # --- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        """Run in the background until `stop` (the app's lifespan)."""
        self._task = asyncio.create_task(self.run(), name="delivery-sender")

    async def stop(self, grace_s: float = 5.0) -> None:
        """Finish the batches in hand (up to `grace_s`), then stop.

        A batch still mid-call after the grace period stays `sending` and is re-sent later
        with its stored retry key, so LINE accepts it at most once.
        """
        self.request_stop()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace_s)
        except TimeoutError:
            self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    def request_stop(self) -> None:
        """Stop claiming new batches; `run` returns once the ones in hand are recorded."""
        self._stopping = True
        self.wake()

    async def _db(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one of `store`'s transactions on the sender's database thread(s)."""
        if self._executor is None:
            # SQLite has one writer at a time and its busy handler sleeps in steps of
            # milliseconds, so this sender's own transactions queue on one thread instead.
            sqlite = self.engine.dialect.name == "sqlite"
            threads = 1 if sqlite else min(self.settings.delivery_concurrency, 8)
            self._executor = ThreadPoolExecutor(threads, thread_name_prefix="delivery-db")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(function, *args, **kwargs))

    def _release_threads(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    def wake(self) -> None:
        """Look for work now; safe to call from any thread (after-commit hooks run in many)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    async def run(self, *, until_idle: bool = False) -> None:
        """Send until stopped, or with `until_idle` until no batch is left waiting."""
        self._loop = asyncio.get_running_loop()
        outbox.register_waker(self.wake)
        try:
            async with self._single_sender():
                await self._upkeep(startup=True)
                await self._current_quota()  # once here, not by each of the first claims
                await self._dispatch(until_idle)
                await self._db(store.sweep_finished, self.engine, self.clock.now())
        finally:
            outbox.unregister_waker(self.wake)
            self._release_threads()

    async def send_due(self, max_batches: int | None = None) -> int:
        """Claim and send due batches one at a time, in order; returns how many were handled."""
        self._loop = asyncio.get_running_loop()
        handled = 0
        try:
            while max_batches is None or handled < max_batches:
                jobs = await self._db(store.claim_due, self.engine, self.clock.now(), 1)
                if not jobs:
                    break
                await self._deliver(*jobs[0])
                handled += 1
        finally:
            self._release_threads()
        return handled

    # --- the loop ------------------------------------------------------------

    @asynccontextmanager
    async def _single_sender(self) -> AsyncIterator[None]:
        """On SQLite hold the lock file (waiting while another sender has it); else nothing."""
        database = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        if not database or database == ":memory:":
            if database is not None:
                log.info("delivery sender on SQLite: a single sender runs")
            yield
            return
        lock = SqliteSenderLock(database)
        await lock.acquire(poll_s=max(self.settings.delivery_poll_seconds, 1.0))
        log.info("delivery sender on SQLite: a single sender runs (lock file held)")
        try:
            yield
        finally:
            lock.release()

    async def _dispatch(self, until_idle: bool) -> None:
        """Keep up to `delivery_concurrency` batches in flight, claiming as slots free up."""
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while not self._stopping:
                try:
                    if await self._dispatch_once(in_flight, until_idle):
                        return
                except Exception:  # noqa: BLE001 - e.g. the database restarting: try again
                    log.exception("delivery sender loop failed; retrying")
                    await asyncio.sleep(self.settings.delivery_poll_seconds)
        finally:
            # Finish what is in hand (stop() cancels us if that takes too long).
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def _dispatch_once(self, in_flight: set[asyncio.Task[None]], until_idle: bool) -> bool:
        """Claim what fits, start it, then wait for a reason to look again; True when idle."""
        await self._upkeep()
        limit = self.settings.delivery_concurrency
        free = limit - len(in_flight)
        jobs = []
        # Claim a few slots' worth at a time: one transaction instead of one each.
        if free >= max(1, limit // 4) or not in_flight:
            jobs = await self._db(store.claim_due, self.engine, self.clock.now(), free)
        for claim, audience in jobs:
            task = asyncio.create_task(self._deliver_safely(claim, audience))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if jobs and len(jobs) == free:
            return False  # got all we asked for: there may be more due right now
        if until_idle and not in_flight and not jobs:
            if not await self._db(store.anything_waiting, self.engine):
                return True
        await self._wait(in_flight, self.settings.delivery_poll_seconds)
        return False

    async def _wait(self, in_flight: set[asyncio.Task[None]], timeout: float) -> None:
        """Until woken, a batch finishes (a slot frees up) or the poll interval passes."""
        woken = asyncio.create_task(self._wake.wait())
        try:
            await asyncio.wait(
                {woken, *in_flight}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            woken.cancel()
        self._wake.clear()

    async def _upkeep(self, *, startup: bool = False) -> None:
        """Requeue batches of dead senders, finish messages, refresh the queue gauge."""
        moment = time.monotonic()
        if not startup and moment - self._last_upkeep < min(UPKEEP_EVERY_S, self._lease_s()):
            return
        self._last_upkeep = moment
        # On SQLite the lock file proves no other sender lives, so at start-up every
        # `sending` batch is an orphan; elsewhere wait for the holder's lease to run out.
        single = startup and self.engine.dialect.name == "sqlite"
        lease = None if single else timedelta(seconds=self.settings.delivery_lease_seconds)
        now = self.clock.now()
        requeued = await self._db(store.requeue_expired, self.engine, now, lease)
        if requeued:
            log.warning(
                "requeued batches of a sender that stopped mid-send", extra={"batches": requeued}
            )
        await self._db(store.sweep_finished, self.engine, now)
        metrics.deliveries_queued.set(await self._db(store.count_waiting, self.engine))

    def _lease_s(self) -> float:
        return max(self.settings.delivery_lease_seconds / 2, 0.05)

    # --- one batch -----------------------------------------------------------

    async def _deliver_safely(self, claim: Claim, audience: Audience) -> None:
        try:
            await self._deliver(claim, audience)
        except Exception:  # noqa: BLE001 - the batch stays claimed and is retried after its lease
            log.exception("delivery batch crashed", extra=_batch_log(claim))

    async def _deliver(self, claim: Claim, audience: Audience) -> None:
        """Send one claimed batch and record what happened."""
        max_claims = self.settings.delivery_max_attempts * ABANDON_AFTER_CLAIMS_FACTOR
        if claim.claims > max_claims:
            reason = f"abandoned: claimed {claim.claims - 1} times without an outcome"
            outcome = Outcome(False, True, None, reason)
        else:
            held_until = self._held_until(claim, audience, await self._current_quota())
            if held_until is not None:
                await self._db(store.defer, self.engine, claim, held_until)
                log.info(
                    "delivery batch deferred",
                    extra={**_batch_log(claim), "until": held_until.isoformat()},
                )
                return
            outcome = await self._call(claim, audience)
        recorded = await self._recorder.record(
            store.Report(claim, audience, outcome, self._retry_delay(claim))
        )
        self._count(claim, recorded)
        _log_outcome(claim, audience, outcome, recorded)

    async def _record_group(self, reports: Sequence[store.Report]) -> list[store.Recorded]:
        return await self._db(
            store.record_many,
            self.engine,
            reports,
            self.clock.now(),
            max_failures=self.settings.delivery_max_attempts,
        )

    async def _current_quota(self) -> send_policy.Quota | None:
        """This month's stored quota reading, re-read at most every QUOTA_CACHE_S seconds."""
        month = send_policy.month_of(self.clock.now(), self.settings.tz)
        cached = self._quota
        if cached and cached[1] == month and time.monotonic() - cached[0] < QUOTA_CACHE_S:
            return cached[2]
        quota = await self._db(self._read_quota)
        self._quota = (time.monotonic(), month, quota)
        return quota

    def _read_quota(self) -> send_policy.Quota | None:
        with Session(self.engine) as session:
            return send_policy.current_quota(session, self.clock.now(), self.settings.tz)

    def _held_until(
        self, claim: Claim, audience: Audience, quota: send_policy.Quota | None
    ) -> datetime | None:
        """When quiet hours or the quota hold say to wait, the moment to look again."""
        now = self.clock.now()
        decision = send_policy.decide_for_batch(
            quota,
            urgent=claim.urgent,
            spread_key=claim.retry_key,
            recipients=len(audience.reachable),
            now=now,
            tz=self.settings.tz,
            policy=self._policy,
        )
        if isinstance(decision, send_policy.DeferUntil):
            return decision.at
        if isinstance(decision, send_policy.Hold):
            return decision.recheck_at or now + QUOTA_RECHECK
        return None

    async def _call(self, claim: Claim, audience: Audience) -> Outcome:
        if not audience.reachable:
            return Outcome(True, True, None, "nobody reachable")
        to = audience.reachable
        await self.limits.acquire(claim.endpoint)
        try:
            if claim.endpoint == "push":
                result = await self.gateway.push(to[0], claim.messages, claim.retry_key)
            else:
                result = await self.gateway.multicast(to, claim.messages, claim.retry_key)
        except LimitError as exc:
            return Outcome(False, True, None, f"content breaks LINE limits: {exc}")
        except Exception as exc:  # noqa: BLE001 - an odd failure is retried, not fatal
            log.exception("LINE call raised", extra=_batch_log(claim))
            return Outcome(False, False, None, type(exc).__name__)
        return _outcome(result)

    def _retry_delay(self, claim: Claim) -> float:
        """Exponential back-off with full jitter between the sender's own tries of a batch."""
        base = self.settings.delivery_retry_base_seconds
        ceiling = min(MAX_RETRY_DELAY_S, base * 2 ** min(claim.failures, 16))
        return self._rng.uniform(0, ceiling) if ceiling > 0 else 0.0

    def _count(self, claim: Claim, recorded: store.Recorded) -> None:
        for outcome, number in (
            ("sent", recorded.sent),
            ("unreachable", recorded.unreachable),
            ("failed", recorded.failed),
        ):
            if number:
                metrics.deliveries.labels(claim.kind, outcome).inc(number)


def _outcome(result: SendResult) -> Outcome:
    if result.delivered:
        return Outcome(True, True, result.status, result.outcome)
    final = result.outcome in ("rejected", "quota", "invalid")
    return Outcome(False, final, result.status, result.detail)


def _batch_log(claim: Claim) -> dict[str, Any]:
    return {
        "message_id": claim.message_id,
        "batch_id": claim.batch_id,
        "kind": claim.kind,
        "endpoint": claim.endpoint,
        "claims": claim.claims,
    }


def _log_outcome(
    claim: Claim, audience: Audience, outcome: Outcome, recorded: store.Recorded
) -> None:
    extra = {
        **_batch_log(claim),
        "recipients": len(audience.reachable),
        "unreachable": len(audience.unreachable),
        "status": outcome.status,
        "result": recorded.batch_status or "superseded",
    }
    if not recorded.applied:
        log.info("delivery batch outcome superseded by a later claim", extra=extra)
    elif recorded.batch_status == "failed":
        log.error("delivery batch failed", extra={**extra, "detail": outcome.detail[:200]})
    elif recorded.retry_in is not None:
        log.warning(
            "delivery batch will be retried",
            extra={**extra, "retry_in_s": round(recorded.retry_in, 2)},
        )
    else:
        log.info("delivery batch sent", extra=extra)


async def run_standalone(settings: Settings, *, until_idle: bool = False) -> None:
    """The sender as its own process (`tsunagari sender`): stops cleanly on SIGTERM/SIGINT."""
    from bot.db import make_engine
    from bot.platform.line.gateway import gateway_from_settings

    engine = make_engine(settings.database_url)
    gateway = gateway_from_settings(settings, concurrency=settings.delivery_concurrency)
    sender = Sender(engine=engine, gateway=gateway, settings=settings)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, sender.request_stop)
    log.info(
        "delivery sender starting",
        extra={"until_idle": until_idle, "database": engine.dialect.name},
    )
    try:
        await sender.run(until_idle=until_idle)
    finally:
        await gateway.close()
        engine.dispose()
    log.info("delivery sender stopped")
