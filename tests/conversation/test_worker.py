"""`tsunagari serve` acknowledges in its own process and answers from a worker process beside it.

Real processes, real HTTP: the webhook goes to `serve`, the reply comes from the `worker`
child it started (woken by NOTIFY on PostgreSQL, by its poll on SQLite), and the reply
reaches the spec-checked LINE stand-in exactly once. A killed worker is restarted; stopping
serve stops the worker.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.simulator.standin import LineStandin
from bot.worker import ACTIVE_NAME
from tests.conftest import SECRET, TOKEN
from tests.factories import body, signed_headers, text_event

REPO = Path(__file__).resolve().parents[2]
STARTUP_S = 90.0  # a loaded CI machine imports slowly; the test waits, it does not time


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> list[int]:
    """Child processes of `pid`, whichever of its threads started them."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _active_workers(pid: int) -> list[int]:
    """serve's worker(s) at work (not the spare waiting beside them), by process name."""
    found = []
    for child in _children(pid):
        try:
            if Path(f"/proc/{child}/comm").read_text().strip() == ACTIVE_NAME:
                found.append(child)
        except OSError:
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _until(check: Callable[[], Any], what: str, timeout: float = STARTUP_S) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def serve(db_url: str, standin: LineStandin, tmp_path: Path) -> Iterator[tuple[Any, str]]:
    """`python -m bot serve` on a free port, as an operator would start it."""
    yield from _serve(db_url, standin, tmp_path)


@pytest.fixture
def serve_long_lease(
    db_url: str, standin: LineStandin, tmp_path: Path
) -> Iterator[tuple[Any, str]]:
    """`serve` whose events stay claimed by a worker for ten minutes unless taken over."""
    yield from _serve(db_url, standin, tmp_path, TSUNAGARI_EVENT_LEASE_SECONDS="600")


def _serve(
    db_url: str, standin: LineStandin, tmp_path: Path, **extra: str
) -> Iterator[tuple[Any, str]]:
    if not Path("/proc/self/task").exists():
        pytest.skip("reads the process tree from /proc (Linux)")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TSUNAGARI_", "LINE_"))}
    env.update(
        DATABASE_URL=db_url,
        LINE_CHANNEL_SECRET=SECRET,
        LINE_CHANNEL_ACCESS_TOKEN=TOKEN,
        LINE_API_BASE_URL=standin.url,  # type: ignore[attr-defined]
        LINE_DATA_API_BASE_URL=standin.url,  # type: ignore[attr-defined]
        TSUNAGARI_RUN_SCHEDULER="false",
        TSUNAGARI_QUIET_HOURS_START="00:00",
        TSUNAGARI_QUIET_HOURS_END="00:00",
        LOG_LEVEL="WARNING",
        **extra,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port)], env=env, cwd=tmp_path
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return proc.poll() is not None  # ends the wait; the assert below says why

    try:
        _until(ready, "serve to answer /readyz")
        assert proc.poll() is None, f"serve exited with {proc.returncode}"
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _say(standin: LineStandin, url: str, user: str, text: str) -> httpx.Response:
    event = text_event(
        user, "ヘルプ" if text == "help" else text, reply_token=standin.issue_reply_token(user)
    )
    raw = body(event)
    return httpx.post(f"{url}/callback", content=raw, headers=signed_headers(raw, SECRET))


def _answers_to(standin: LineStandin, user: str) -> list[str]:
    """How each API call that reached `user` came (reply, push, …), one entry per call."""
    calls = {d.request_index: d.via for d in standin.deliveries if d.user_id == user}
    return [calls[i] for i in sorted(calls)]


def test_serve_answers_from_its_worker_which_is_restarted_and_stopped_with_it(
    serve: tuple[subprocess.Popen[bytes], str], standin: LineStandin
) -> None:
    proc, url = serve
    worker = _until(lambda: _active_workers(proc.pid), "serve to start its worker")[0]

    assert _say(standin, url, "Ualice0000000000000000000000000001", "help").status_code == 200
    _until(lambda: _answers_to(standin, "Ualice0000000000000000000000000001"), "a reply")
    # Once, as a reply (the token was live): no second answer and no push fallback.
    time.sleep(0.5)
    assert _answers_to(standin, "Ualice0000000000000000000000000001") == ["reply"]

    os.kill(worker, signal.SIGKILL)
    replacement = _until(
        lambda: [p for p in _active_workers(proc.pid) if p != worker and _alive(p)],
        "serve to restart its worker",
    )[0]
    spare = _until(
        lambda: [p for p in _children(proc.pid) if p not in (worker, replacement) and _alive(p)],
        "serve to start a new spare",
    )[0]
    assert _say(standin, url, "Ubob00000000000000000000000000002", "help").status_code == 200
    _until(lambda: _answers_to(standin, "Ubob00000000000000000000000000002"), "a reply")

    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    _until(lambda: not _alive(replacement), "the worker to stop with serve", timeout=30)
    _until(lambda: not _alive(spare), "the spare to stop with serve", timeout=30)


def test_a_restarted_worker_takes_over_the_events_its_predecessor_had_claimed(
    serve_long_lease: tuple[subprocess.Popen[bytes], str], standin: LineStandin, db_url: str
) -> None:
    """Killed mid-surge, the worker leaves events it had claimed: its replacement handles
    them at once, not after their (here ten-minute) lease, and each is answered once."""
    from datetime import UTC, datetime

    from bot.db import make_engine
    from bot.platform import inbox

    proc, url = serve_long_lease
    worker = _until(lambda: _active_workers(proc.pid), "serve to start its worker")[0]
    assert _say(standin, url, "Ualice0000000000000000000000000001", "help").status_code == 200
    _until(lambda: _answers_to(standin, "Ualice0000000000000000000000000001"), "a reply")

    # An event stored and claimed, as the worker does just before handling it …
    carol = "Ucarol000000000000000000000000003"
    event = text_event(carol, "ヘルプ", reply_token=standin.issue_reply_token(carol))
    engine = make_engine(db_url)
    try:
        assert inbox.store_events(engine, [event], datetime.now(UTC), claim=True)
    finally:
        engine.dispose()
    os.kill(worker, signal.SIGKILL)  # … and the worker killed before it could.
    killed = time.monotonic()
    _until(lambda: _answers_to(standin, carol), "the replacement to answer the claimed event")
    assert time.monotonic() - killed < 60  # well inside the lease: taken over, not expired
    time.sleep(0.5)
    assert _answers_to(standin, carol) == ["reply"]
