"""Delivery under faults: LINE failing 30% of calls, senders SIGKILLed, two senders at once,
and a resident unfollowing mid-notice. Each recipient must get each notice exactly once."""

from __future__ import annotations

import ctypes
import json
import os
import random
import signal
import subprocess
import sys
import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.clock import FixedClock
from bot.core import residents
from bot.core.models.residents import Resident
from bot.db import is_postgres, session_scope
from bot.platform.delivery import outbox
from bot.platform.delivery.models import OutboxBatch, OutboxRecipient
from bot.simulator.server import StandinServer
from bot.simulator.spec import SpecValidator
from bot.simulator.standin import LineStandin
from tests.conftest import TOKEN, make_settings
from tests.delivery_support import (
    T0,
    add_residents,
    batch_rows,
    close_gateways,
    delivery_counts,
    enqueue_notice,
    message_calls,
    sender_for,
    user_id,
)

KILLS = int(os.environ.get("TSUNAGARI_SENDER_KILLS", "20"))


@pytest.fixture(autouse=True)
async def _close_gateways() -> AsyncIterator[None]:
    yield
    await close_gateways()


def _status(engine: Engine, message_id: int) -> outbox.DeliveryStatus:
    with session_scope(engine) as session:
        status = outbox.delivery_status(session, message_id)
    assert status is not None
    return status


def _keys_by_user(standin: LineStandin, endpoint: str) -> dict[str, set[str | None]]:
    """Every retry key each user's ID was sent with, over all calls to `endpoint`."""
    keys: dict[str, set[str | None]] = defaultdict(set)
    for call in message_calls(standin):
        if not call.path.endswith(f"/{endpoint}"):
            continue
        to = call.json["to"]
        for uid in [to] if isinstance(to, str) else to:
            keys[uid].add(call.retry_key)
    return keys


def _batch_key_by_user(engine: Engine, message_id: int) -> dict[str, str]:
    """The retry key stored for each recipient's batch."""
    query = (
        select(Resident.line_user_id, OutboxBatch.retry_key)
        .join(OutboxRecipient, OutboxRecipient.resident_id == Resident.id)  # type: ignore[arg-type]
        .join(OutboxBatch, OutboxBatch.id == OutboxRecipient.batch_id)  # type: ignore[arg-type]
        .where(OutboxRecipient.message_id == message_id)  # type: ignore[arg-type]
    )
    with session_scope(engine) as session:
        return {str(uid): str(key) for uid, key in session.execute(query)}


def _assert_each_call_carried_its_batch_key(
    engine: Engine, standin: LineStandin, message_id: int
) -> None:
    """Every multicast naming a recipient of the message carried that recipient's batch key."""
    stored = _batch_key_by_user(engine, message_id)
    sent_with = _keys_by_user(standin, "multicast")
    wrong = {u: keys for u, keys in sent_with.items() if u in stored and keys != {stored[u]}}
    assert not wrong, f"{len(wrong)} recipients were sent with a key other than their batch's"


# --- LINE failing ------------------------------------------------------------------------


async def test_thirty_percent_of_calls_failing_still_delivers_each_notice_once(
    engine: Engine, standin: LineStandin, db_url: str
) -> None:
    settings = make_settings(
        db_url,
        standin.url,  # type: ignore[attr-defined]
        line_max_attempts=3,
        delivery_retry_base_seconds=0,
        delivery_poll_seconds=0.02,
    )
    ids = add_residents(engine, 5000)
    notice = enqueue_notice(engine, ids, key="notice:typhoon")
    reminders = [
        enqueue_notice(engine, [rid], key=f"reminder:{rid}", kind="reminder") for rid in ids[:20]
    ]
    standin.set_failure_rate(0.3, statuses=(429, 500), seed=7)

    await sender_for(engine, standin, settings).run(until_idle=True)

    statuses = [c.status for c in message_calls(standin)]
    assert statuses.count(429) + statuses.count(500) >= 5  # the faults really happened
    counts = delivery_counts(standin)
    assert counts == {user_id(n): 2 if n < 20 else 1 for n in range(5000)}
    _assert_each_call_carried_its_batch_key(engine, standin, notice)
    assert {_status(engine, m).status for m in [notice, *reminders]} == {"sent"}


# --- an unfollow in the middle of a notice -----------------------------------------------


async def test_a_resident_who_unfollows_mid_notice_is_skipped_and_counted_unreachable(
    engine: Engine, standin: LineStandin, db_url: str
) -> None:
    settings = make_settings(db_url, standin.url)  # type: ignore[attr-defined]
    ids = add_residents(engine, 1500)
    message_id = enqueue_notice(engine, ids)
    sender = sender_for(engine, standin, settings, clock=FixedClock(T0))
    leaver = ids[1234]  # in the third batch

    assert await sender.send_due(max_batches=1) == 1
    with session_scope(engine) as session:  # the unfollow event is processed
        residents.mark_unfollowed(session, session.get_one(Resident, leaver), T0)
    standin.block(user_id(1234))
    await sender.send_due()

    assert user_id(1234) not in {u for c in message_calls(standin)[1:] for u in c.json["to"]}
    assert delivery_counts(standin) == {user_id(n): 1 for n in range(1500) if n != 1234}
    status = _status(engine, message_id)
    assert status.status == "sent"
    assert status.recipients == {"pending": 0, "sent": 1499, "unreachable": 1, "failed": 0}


# --- real sender processes ---------------------------------------------------------------


def _sender_env(db_url: str, line_url: str, **extra: str) -> dict[str, str]:
    """The environment of a sender process: its settings, nothing from the developer's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TSUNAGARI_", "LINE_"))}
    env.update(
        {
            "DATABASE_URL": db_url,
            "LINE_API_BASE_URL": line_url,
            "LINE_DATA_API_BASE_URL": line_url,  # LINE's own host would mean production
            "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
            "LINE_CHANNEL_SECRET": "unused",
            "LINE_BACKOFF_BASE_SECONDS": "0.01",
            "TSUNAGARI_AUTO_MIGRATE": "false",
            "TSUNAGARI_DELIVERY_RETRY_BASE_SECONDS": "0",
            "TSUNAGARI_DELIVERY_POLL_SECONDS": "0.1",
            "TSUNAGARI_DELIVERY_LEASE_SECONDS": "1",
            # The sender runs on the real clock: without this, a run in the city's evening
            # would defer every batch to the morning and the test would wait for nothing.
            "TSUNAGARI_QUIET_HOURS_START": "00:00",
            "TSUNAGARI_QUIET_HOURS_END": "00:00",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            **extra,
        }
    )
    return env


def _spawn(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    """`python -m bot sender` with its JSON log in `log`; it dies with the test run."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "sender", *args],
            env=env,
            cwd=log.parent,
            stdout=subprocess.DEVNULL,
            stderr=out,
            preexec_fn=_die_with_parent,
        )


def _die_with_parent() -> None:
    """Linux: SIGKILL the sender if the test process goes away, so none is left behind."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class KillSwitch:
    """An ASGI wrapper around the stand-in that SIGKILLs the sender on its n-th message call.

    Killing on a protocol event (not after a delay) puts kills at the interesting points
    whatever the machine's load: before LINE sees the call, or after LINE has accepted it
    but before the sender hears so and records it.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._nth, self._after_accept, self._seen = 0, False, 0
        self.kills_after_accept = 0

    def arm(self, proc: subprocess.Popen[bytes], nth: int, *, after_accept: bool) -> None:
        """Kill `proc` on its `nth` push/multicast call, before or after LINE accepts it."""
        with self._lock:
            self._proc, self._nth, self._after_accept, self._seen = proc, nth, after_accept, 0

    def _hit(self) -> tuple[subprocess.Popen[bytes] | None, bool]:
        with self._lock:
            self._seen += 1
            if self._proc is None or self._seen != self._nth:
                return None, False
            proc, self._proc = self._proc, None
            return proc, self._after_accept

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        sends = path.endswith(("/push", "/multicast"))
        proc, after_accept = self._hit() if sends else (None, False)
        if proc is not None and not after_accept:
            proc.kill()  # LINE never sees this call
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        if proc is None:
            await self.app(scope, receive, send)
            return

        async def kill_before_answering(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                proc.kill()  # accepted and delivered; the sender never learns it
                self.kills_after_accept += 1
            await send(message)

        await self.app(scope, receive, kill_before_answering)


@pytest.fixture
def killable_line(spec: SpecValidator | None) -> Iterator[tuple[LineStandin, KillSwitch]]:
    """The stand-in behind a kill switch, answering after 50 ms."""
    line = LineStandin(spec=spec, access_token=TOKEN, latency_s=0.05)
    switch = KillSwitch(line.app)
    with StandinServer(switch) as server:
        line.url = server.url  # type: ignore[attr-defined]
        yield line, switch
    assert not line.spec_violations()


@pytest.fixture
def slow_line(spec: SpecValidator | None) -> Iterator[LineStandin]:
    """A stand-in that takes its time answering, so two senders overlap."""
    line = LineStandin(spec=spec, access_token=TOKEN, latency_s=0.3)
    with StandinServer(line.app) as server:
        line.url = server.url  # type: ignore[attr-defined]
        yield line
    assert not line.spec_violations()


def _one_life(proc: subprocess.Popen[bytes], switch: KillSwitch, rng: random.Random) -> int | None:
    """Let the sender run until a kill; returns its exit code (None: still running)."""
    after_accept = rng.random() < 0.5
    if rng.random() < 0.25:
        # A kill at a random moment: start-up, a claim, a record, a call in flight. The
        # switch stays armed on the third call so one life cannot send the whole notice.
        switch.arm(proc, 3, after_accept=after_accept)
        try:
            return proc.wait(timeout=rng.uniform(0.5, 3.0))
        except subprocess.TimeoutExpired:
            proc.kill()
    else:
        switch.arm(proc, rng.choice((1, 2)), after_accept=after_accept)
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        return None


@pytest.mark.slow
def test_sender_killed_at_random_points_sends_each_recipient_once_with_original_keys(
    engine: Engine, killable_line: tuple[LineStandin, KillSwitch], db_url: str, tmp_path: Path
) -> None:
    line, switch = killable_line
    ids = add_residents(engine, 10_000)
    message_id = enqueue_notice(engine, ids, key="notice:evacuation-drill")
    env = _sender_env(db_url, line.url, TSUNAGARI_DELIVERY_CONCURRENCY="2")  # type: ignore[attr-defined]
    rng, log = random.Random(2026), tmp_path / "sender.log"

    exits = []
    for _ in range(KILLS):
        proc = _spawn(env, log)
        try:
            exits.append(_one_life(proc, switch, rng))
        finally:
            proc.kill()
            proc.wait()
    final = _spawn(env, log, "--until-idle")
    assert final.wait(timeout=120) == 0, log.read_text()[-3000:]

    assert exits == [-signal.SIGKILL] * KILLS  # each life ended by a kill, mid-notice
    assert delivery_counts(line) == {user_id(n): 1 for n in range(10_000)}
    _assert_each_call_carried_its_batch_key(engine, line, message_id)
    assert len({c.retry_key for c in message_calls(line)}) == 20
    if switch.kills_after_accept:  # a call LINE accepted was re-sent: 409, not a repeat
        assert 409 in {c.status for c in message_calls(line)}
    status = _status(engine, message_id)
    assert (status.status, status.recipients["sent"]) == ("sent", 10_000)


def test_two_senders_at_once_never_send_a_batch_twice(
    engine: Engine, slow_line: LineStandin, db_url: str, tmp_path: Path
) -> None:
    ids = add_residents(engine, 10_000)
    message_id = enqueue_notice(engine, ids)
    env = _sender_env(
        db_url,
        slow_line.url,  # type: ignore[attr-defined]
        TSUNAGARI_DELIVERY_CONCURRENCY="2",
        TSUNAGARI_DELIVERY_LEASE_SECONDS="60",
    )

    paths = [tmp_path / "sender-a.log", tmp_path / "sender-b.log"]
    procs = [_spawn(env, path, "--until-idle") for path in paths]
    codes = [p.wait(timeout=120) for p in procs]
    logs = [_json_lines(path.read_bytes()) for path in paths]

    assert codes == [0, 0]
    calls = message_calls(slow_line)
    assert sorted(c.retry_key or "" for c in calls) == sorted(
        b.retry_key for b in batch_rows(engine, message_id)
    )  # one call per batch, no repeats
    assert {c.status for c in calls} == {200}
    assert delivery_counts(slow_line) == {user_id(n): 1 for n in range(10_000)}
    sent_by = [sum(1 for r in log if r.get("message") == "delivery batch sent") for log in logs]
    assert sum(sent_by) == 20
    if is_postgres(engine):
        assert min(sent_by) > 0, f"both senders should share the work: {sent_by}"
    else:  # SQLite: the second waits on the lock file and finds nothing left
        assert sorted(sent_by) == [0, 20]
        assert any(
            r.get("message", "").startswith("another sender is running")
            for log in logs
            for r in log
        )


def _json_lines(raw: bytes) -> list[dict[str, Any]]:
    out = []
    for line in raw.decode(errors="replace").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out
