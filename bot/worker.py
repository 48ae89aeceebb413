"""`tsunagari worker`: processes stored events, sends deliveries and schedules, without HTTP.

`tsunagari serve` starts one beside itself (see `WorkerSupervisor`); it can also run on its
own, several per PostgreSQL database: events, batches and the scheduler lease are claimed in
the database, so workers never do the same work twice.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)

PARENT_ENV = "TSUNAGARI_WORKER_PARENT"  # set by `serve`: the worker ends when serve is gone
# Set by `serve` on a worker it starts in place of one that died: take its claimed events now.
TAKE_OVER_ENV = "TSUNAGARI_WORKER_TAKES_OVER"
# Set by `serve` on its spare worker: start up, then wait on stdin for "take-over" (or EOF).
STANDBY_ENV = "TSUNAGARI_WORKER_STANDBY"
GO_LINE = b"take-over\n"
# Process names (Linux /proc/<pid>/comm) saying which worker works and which waits.
ACTIVE_NAME, STANDBY_NAME = "tsunagari-wkr", "tsunagari-stby"
# The first restart is at once (a killed worker mid-surge leaves events waiting); a worker
# that keeps dying within a minute of its start is restarted ever more slowly.
RESTART_DELAYS_S = (0.0, 1.0, 2.0, 5.0, 10.0, 30.0)
STOP_GRACE_S = 10.0


async def run_worker(settings: Settings) -> None:
    """Run until SIGTERM/SIGINT (or, under `serve`, until serve's process is gone)."""
    from bot.background import Background
    from bot.clock import SystemClock
    from bot.content import load_content
    from bot.conversation.notifier import Notifier
    from bot.conversation.render import Renderer
    from bot.conversation.runner import Runner
    from bot.db import make_engine
    from bot.platform.heap import freeze
    from bot.platform.line.gateway import gateway_from_settings
    from bot.wiring import build_registry

    content = load_content(settings.content_dir)
    engine = make_engine(settings.database_url)
    renderer = Renderer(content)
    gateway = gateway_from_settings(
        settings, concurrency=settings.processor_lanes + settings.delivery_concurrency
    )
    background = Background(
        engine=engine,
        settings=settings,
        content=content,
        runner=Runner(build_registry(), renderer),
        notifier=Notifier.over(renderer, settings),
        gateway=gateway,
        clock=SystemClock(),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    watchdog = asyncio.create_task(_end_with_parent(stop))
    take_over = os.environ.get(TAKE_OVER_ENV) == "1"
    if os.environ.get(STANDBY_ENV) == "1":
        if not await _standby(stop):
            watchdog.cancel()
            await gateway.close()
            engine.dispose()
            return
        take_over = True
    _name(ACTIVE_NAME)
    await background.start(
        take_over=take_over,
        process_events=settings.process_events,
        scheduler=settings.run_scheduler,
        sender=settings.run_sender,
        watch_inbox=True,
    )
    freeze()  # see bot/platform/heap.py: no 100 ms collector pauses in the middle of handling
    log.info("worker started", extra={"database": engine.dialect.name})
    try:
        await stop.wait()
    finally:
        watchdog.cancel()
        await background.stop()
        await gateway.close()
        engine.dispose()
    log.info("worker stopped")


async def _standby(stop: asyncio.Event) -> bool:
    """A spare worker: everything imported and built, it waits until serve says "take over"
    (True) or goes away or stops it (False). Replacing a killed worker then takes well under
    a second instead of the seconds that importing takes."""
    import bot.platform.delivery.sender  # noqa: F401 - imported now, not when taking over
    import bot.scheduling  # noqa: F401

    _name(STANDBY_NAME)
    told = asyncio.ensure_future(asyncio.to_thread(sys.stdin.buffer.readline))
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait((told, stopped), return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    # EOF (serve gone) or a stop: end; the reading thread ends with the process.
    return told.done() and told.result() == GO_LINE and not stop.is_set()


def _name(name: str) -> None:
    """Name the process for `ps` and the tests (Linux); elsewhere nothing happens."""
    try:
        Path("/proc/self/comm").write_text(name)
    except OSError:
        pass


async def _end_with_parent(stop: asyncio.Event) -> None:
    """Under `serve`, stop when serve's process has gone (killed without telling us)."""
    parent = os.environ.get(PARENT_ENV)
    if not parent:
        return
    while os.getppid() == int(parent):
        await asyncio.sleep(1.0)
    log.warning("serve process is gone; worker stopping")
    stop.set()


class WorkerSupervisor:
    """Keeps one `tsunagari worker` child running while `serve` runs; replaces it if it dies.

    With `standby`, a second worker waits started up beside it (its memory, no CPU): a
    worker killed mid-surge is replaced by telling the spare to take over, and a new spare
    is started behind it.
    """

    def __init__(self, *, standby: bool = False) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._spare: subprocess.Popen[bytes] | None = None
        self._standby = standby
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the worker (and its spare) and a thread that replaces it after a crash."""
        self._spawn()
        if self._standby:
            self._spawn_spare()
        self._thread = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the worker to finish (SIGTERM), then kill it after a grace period."""
        self._stopping.set()
        with self._lock:
            proc, spare = self._proc, self._spare
        if spare is not None and spare.poll() is None:
            if spare.stdin is not None:
                spare.stdin.close()  # its wait for the word ends
            spare.terminate()  # it holds no work; its end needs no waiting
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            log.warning("worker did not stop in time; killing it")
            proc.kill()
            proc.wait()

    def _spawn(self, *, take_over: bool = False) -> None:
        with self._lock:
            self._proc = _popen(TAKE_OVER_ENV if take_over else None)

    def _spawn_spare(self) -> None:
        with self._lock:
            self._spare = _popen(STANDBY_ENV, stdin=subprocess.PIPE)

    def _replace(self) -> None:
        """The spare takes over if it is there and alive; else a new worker starts."""
        with self._lock:
            spare, self._spare = self._spare, None
        promoted = False
        if spare is not None and spare.poll() is None and spare.stdin is not None:
            try:
                spare.stdin.write(GO_LINE)
                spare.stdin.flush()
                promoted = True
            except OSError:
                spare.kill()
        if promoted:
            with self._lock:
                self._proc = spare
        else:
            self._spawn(take_over=True)
        if self._standby:
            self._spawn_spare()

    def _watch(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            with self._lock:
                proc = self._proc
            assert proc is not None
            started = time.monotonic()
            code = proc.wait()
            if self._stopping.is_set():
                return
            # Back-off only for a worker that keeps dying soon after its start.
            quick = time.monotonic() - started <= 60
            delay = RESTART_DELAYS_S[min(failures, len(RESTART_DELAYS_S) - 1) if quick else 0]
            failures = failures + 1 if quick else 0
            log.error("worker exited; restarting", extra={"code": code, "in_s": delay})
            if self._stopping.wait(delay):
                return
            self._replace()


def _popen(flag: str | None, stdin: int | None = None) -> subprocess.Popen[bytes]:
    # The parent migrated the database already; two migrations at once could collide.
    env = {**os.environ, PARENT_ENV: str(os.getpid()), "TSUNAGARI_AUTO_MIGRATE": "false"}
    if flag:
        env[flag] = "1"
    # A session of its own: a Ctrl-C in the terminal reaches serve, which stops the worker
    # in order, instead of both at once (and serve restarting it).
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "worker"], env=env, stdin=stdin, start_new_session=True
    )


def run_beside(app: FastAPI, supervisor: WorkerSupervisor) -> None:
    """Start the worker once `app` serves and stop it during the app's graceful shutdown.

    Inside the lifespan rather than around `uvicorn.run`: uvicorn re-raises SIGTERM once it
    has shut down, which would end serve before a `finally` around it could stop the worker.
    """
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        async with inner(app) as state:
            supervisor.start()
            try:
                yield state
            finally:
                await asyncio.to_thread(supervisor.stop)

    app.router.lifespan_context = lifespan
