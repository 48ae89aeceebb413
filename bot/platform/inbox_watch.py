"""Wake a processing worker as soon as another process has stored webhook events.

On PostgreSQL the ingesting process sends `NOTIFY tsunagari_inbox` in the transaction that
stores the events (see `inbox.store_events`), so any processing replica hears of them at
commit; the notification carries nothing but the wake-up. On SQLite, where ingest and worker
share one machine, the worker looks at the inbox every `inbox_poll_seconds`, a read that WAL
lets run beside the writers. Either way the worker then waits `inbox_poll_seconds` for more
events to arrive, so that one claim takes many of them; longer when the inbox is busy (see
`gather_seconds`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable

from sqlalchemy.engine import Engine

from bot.platform.inbox import NOTIFY_CHANNEL

log = logging.getLogger(__name__)

LISTEN_RECONNECT_S = 1.0
EVENTS_PER_POLL = 4  # a take finding more than this many events means the inbox is busy
MAX_GATHER_POLLS = 4  # ... and the next gathers for up to this many poll intervals


def gather_seconds(last_found: int, poll_s: float) -> float:
    """How long to let events gather before the next take, given how many the last found.

    Ordinary traffic waits `poll_s`. Above about EVENTS_PER_POLL / poll_s events a second
    (80/s by default) the wait grows with the load, up to MAX_GATHER_POLLS × poll_s: in a
    surge, each batch transaction then records dozens of answers instead of a few, which
    halved a surge's processing cost per answer; the replies come up to 150 ms later.
    """
    return poll_s * min(MAX_GATHER_POLLS, max(1.0, last_found / EVENTS_PER_POLL))


class InboxWatcher:
    """Calls `take_pending` when events may be waiting; never two at once, none missed."""

    def __init__(
        self, engine: Engine, take_pending: Callable[[], Awaitable[int]], poll_s: float
    ) -> None:
        self.engine, self.take_pending, self.poll_s = engine, take_pending, poll_s
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    async def start(self) -> None:
        """Begin watching: a listener thread on PostgreSQL, a poll timer on SQLite."""
        loop = asyncio.get_running_loop()
        if self.engine.dialect.name == "postgresql":
            self._thread = threading.Thread(
                target=self._listen, args=(loop,), name="inbox-listen", daemon=True
            )
            self._thread.start()
        else:
            self._tasks.append(asyncio.create_task(self._poll()))
        self._tasks.append(asyncio.create_task(self._take_when_woken()))

    async def stop(self) -> None:
        """Stop watching; events still pending wait for the next start or another replica."""
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 2.0)
            self._thread = None

    async def _take_when_woken(self) -> None:
        found = 0
        while True:
            await self._wake.wait()
            # Gather what else arrives in the next moment: one claim for many events.
            await asyncio.sleep(gather_seconds(found, self.poll_s))
            # Cleared before taking: a wake-up arriving meanwhile makes one more round.
            self._wake.clear()
            try:
                found = await self.take_pending()
            except Exception:  # noqa: BLE001 - e.g. the database restarting; next wake retries
                log.exception("taking pending events failed")
                found = 0
                await asyncio.sleep(self.poll_s)

    async def _poll(self) -> None:
        while True:
            self._wake.set()
            await asyncio.sleep(self.poll_s)

    def _listen(self, loop: asyncio.AbstractEventLoop) -> None:
        """LISTEN on a connection of its own; reconnects after a database restart."""
        import psycopg

        conninfo = self.engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    # Whatever was stored before LISTEN took effect is taken now.
                    loop.call_soon_threadsafe(self._wake.set)
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            # In a surge a notification comes with every webhook: wake the
                            # loop only when it is not awake already. Safe unlocked: a wake
                            # still set is cleared only before a take, which then sees
                            # whatever this notification was sent for.
                            if not self._wake.is_set():
                                loop.call_soon_threadsafe(self._wake.set)
            except Exception:  # noqa: BLE001 - retry the connection, never die quietly
                if self._stop.is_set():
                    return
                log.warning("inbox listener lost its connection; reconnecting")
                self._stop.wait(LISTEN_RECONNECT_S)
