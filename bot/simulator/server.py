"""Serve an ASGI app over real HTTP from a background thread, on an ephemeral port.

Used to run the LINE stand-in (and, in tests, the bot itself) so that real
HTTP clients such as line-bot-sdk's aiohttp client can talk to it::

    with StandinServer(standin.app) as server:
        client = Configuration(host=server.url, access_token="t")
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any, Literal

import uvicorn

_START_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 10.0


class _ThreadedServer(uvicorn.Server):
    """uvicorn.Server that reports the end of start-up to another thread."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.startup_done = threading.Event()

    async def startup(self, sockets: Any = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self.startup_done.set()


class StandinServer:
    """Runs ``app`` with uvicorn on 127.0.0.1 in a daemon thread; a context manager."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        lifespan: Literal["auto", "on", "off"] = "auto",
    ) -> None:
        # uvicorn (0.54) installs signal handlers only on the main thread, so a
        # server in a worker thread leaves the test runner's Ctrl-C alone.
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan=lifespan,
            timeout_graceful_shutdown=5,
        )
        self._server = _ThreadedServer(config)
        self._thread: threading.Thread | None = None
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        """Base URL such as ``http://127.0.0.1:54321`` (valid once started)."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> StandinServer:
        """Start serving and wait until the socket listens; RuntimeError if it cannot."""
        if self._thread is not None:
            raise RuntimeError("server already started")
        self._thread = threading.Thread(target=self._run, name="standin-server", daemon=True)
        self._thread.start()
        done = self._server.startup_done.wait(_START_TIMEOUT_S)
        if not done or not self._server.started:
            self.stop()
            raise RuntimeError("the ASGI server did not start (see uvicorn's log)")
        sockets = self._server.servers[0].sockets
        self.port = int(sockets[0].getsockname()[1])
        return self

    def stop(self) -> None:
        """Ask uvicorn to shut down gracefully and wait for its thread."""
        if self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(_STOP_TIMEOUT_S)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(_STOP_TIMEOUT_S)
        self._thread = None

    def _run(self) -> None:
        try:
            self._server.run()
        except SystemExit:  # uvicorn exits this way when start-up fails
            pass
        finally:
            self._server.startup_done.set()

    def __enter__(self) -> StandinServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
