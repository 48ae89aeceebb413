"""Webhook ingest benchmark: Tsunagari (SQLite, PostgreSQL) beside the SDK's minimal bot.

Every bot is its own process on 127.0.0.1 and talks to the same LINE stand-in (another
process, answering after 80 ms). For each offered rate, signed text events are posted
open-loop (on schedule, whatever the answers, with LINE's 2 s webhook timeout) and the
benchmark records (a) the acknowledgement latency and (b) whether every event got
exactly one reply, read from the stand-in's request log (and, for Tsunagari, whether
every event is stored in its database).

    python bench/bench_ingest.py                 # the full run, a few minutes
    python bench/bench_ingest.py --quick         # one repetition, short runs

See bench/README.md for what is measured and how to read the table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import Sent, open_loop, signed_body, text_event, users_for_run  # noqa: E402

TEXTS = ("こんにちは", "ありがとうございます", "よろしくお願いします", "おはようございます")
BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SECRET = "bench-channel-secret"
TOKEN = "bench-channel-token"
# A database of your own on a shared server (the schemas made here are dropped after).
PG_BASE = os.environ.get(
    "TSUNAGARI_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
CLK_TCK = os.sysconf("SC_CLK_TCK")
ACK_RATES = (50, 200, 500)
SNAPSHOT_ATTEMPTS, SNAPSHOT_WAIT_S = 12, 10.0
WARM_RATE, WARM_SECONDS, WARM_ROUNDS = 20, 1.5, 8


# --- processes -----------------------------------------------------------------------------


def free_port() -> int:
    """A port the kernel just handed out on loopback (free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Dirs:
    """Where process logs go (kept), where databases live (removed), and which copy of
    bot/ and content/ the processes import (None: the working tree)."""

    logs: Path
    work: Path
    src: Path | None


def snapshot_sources(into: Path) -> Path:
    """Copy what the bot runs from (bot/, content/, migrations/, alembic.ini), so that
    others editing the working tree during the benchmark cannot change a bot mid-run."""
    for attempt in range(SNAPSHOT_ATTEMPTS):
        shutil.rmtree(into, ignore_errors=True)
        into.mkdir(parents=True)
        for name in ("bot", "content", "migrations"):
            ignore = shutil.ignore_patterns("__pycache__")
            shutil.copytree(REPO / name, into / name, ignore=ignore)
        shutil.copy2(REPO / "alembic.ini", into / "alembic.ini")
        problem = _snapshot_problem(into)
        if not problem:
            return into
        # Someone is half-way through an edit (a key in one locale only, a module not
        # yet written): wait for the tree to become consistent again.
        print(f"snapshot {attempt + 1} not usable yet: {problem}", file=sys.stderr)
        time.sleep(SNAPSHOT_WAIT_S)
    raise SystemExit("the working tree never became consistent; try again, or --live-tree")


def _snapshot_problem(src: Path) -> str:
    """Why the copy cannot start a bot (content, registry, app), or "" when it can."""
    check = (
        "from bot.settings import Settings; from bot.content import load_content; "
        "from bot.wiring import build_registry; import bot.app; "
        "load_content(Settings(_env_file=None).content_dir); build_registry()"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", check],
        env={**os.environ, "PYTHONPATH": str(src)},
        cwd=src,
        capture_output=True,
        text=True,
    )
    lines = done.stderr.strip().splitlines()
    return "" if done.returncode == 0 else (lines[-1] if lines else f"exit {done.returncode}")


def clean_env(dirs: Dirs, **extra: str) -> dict[str, str]:
    """This environment without the bot's own settings, plus ``extra``; imports come from
    the snapshot when there is one (PYTHONPATH precedes the editable install's finder)."""
    prefixes = ("TSUNAGARI_", "LINE_", "DATABASE_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    if dirs.src is not None:
        env["PYTHONPATH"] = str(dirs.src)
    env.update(extra)
    return env


class Proc:
    """A child process with its output in a log file; knows its CPU time."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], dirs: Dirs) -> None:
        self.name = name
        self.log_path = dirs.logs / f"{name}-{uuid.uuid4().hex[:6]}.log"
        self._log = self.log_path.open("wb")
        self.popen = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            argv, env=env, cwd=dirs.work, stdout=self._log, stderr=subprocess.STDOUT
        )

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the process and its children (serve's worker)."""
        return sum(_cpu_of(pid) for pid in _family(self.popen.pid))

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self._log.close()

    def tail(self, lines: int = 15) -> str:
        """The end of the process's output, for error messages."""
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def _family(pid: int) -> list[int]:
    """`pid` and its descendants, whichever thread started them."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
    return found


def _cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores, all processes)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / CLK_TCK


async def wait_ready(proc: Proc, url: str, timeout: float = 60.0) -> None:
    """Poll ``url`` until it answers 200; RuntimeError if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while time.monotonic() < deadline:
            if proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} exited during start-up:\n{proc.tail()}")
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{proc.name} not ready after {timeout:.0f} s:\n{proc.tail()}")


class Standin:
    """The LINE stand-in process and its benchmark control routes."""

    def __init__(self, dirs: Dirs, latency: float, token_ttl_s: float = 60.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [
            sys.executable,
            str(BENCH_DIR / "_load.py"),
            "--port",
            str(self.port),
            "--latency",
            str(latency),
            "--token",
            TOKEN,
            "--reply-token-ttl",
            str(token_ttl_s),
        ]
        # The snapshot lives elsewhere, so tell the stand-in where LINE's spec is.
        spec_dir = os.environ.get("LINE_OPENAPI_DIR") or str(REPO.parent / "shared/line-openapi")
        self.proc = Proc("standin", argv, clean_env(dirs, LINE_OPENAPI_DIR=spec_dir), dirs)
        self.spec = False

    async def start(self, session: aiohttp.ClientSession) -> None:
        """Wait until it serves, and learn whether it checks requests against LINE's spec."""
        await wait_ready(self.proc, f"{self.url}/_bench/requests", timeout=60)
        self.spec = bool((await self._post(session, "/_bench/reset", {}))["spec"])

    async def reset_and_issue(self, session: aiohttp.ClientSession, users: list[str]) -> list[str]:
        """Forget everything, then issue one reply token per event (in user order)."""
        await self._post(session, "/_bench/reset", {})
        return list((await self._post(session, "/_bench/tokens", {"users": users}))["tokens"])

    async def requests(self, session: aiohttp.ClientSession) -> list[dict[str, Any]]:
        """Every message request recorded since the last reset."""
        async with session.get(f"{self.url}/_bench/requests") as response:
            return list((await response.json())["requests"])

    async def _post(self, session: aiohttp.ClientSession, path: str, body: Any) -> Any:
        async with session.post(f"{self.url}{path}", json=body) as response:
            response.raise_for_status()
            return await response.json()


@dataclass
class Target:
    """One bot under test, started fresh (with an empty database) whenever asked."""

    name: str
    kind: str  # "minimal" or "tsunagari"
    db: str | None  # "sqlite", "postgres" or None
    lanes: int | None = None
    inline: bool = False  # TSUNAGARI_WORKER=inline: one process acknowledges and processes
    proc: Proc | None = None
    url: str = ""
    db_url: str = ""
    schema: str = ""
    starts: int = 0
    schemas: list[str] = field(default_factory=list)  # every schema created, to drop at the end

    async def start(self, standin: Standin, dirs: Dirs) -> None:
        """Start the process on a free port with a fresh database and wait until it serves."""
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.starts += 1
        common = {
            "LINE_CHANNEL_SECRET": SECRET,
            "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
            "LINE_API_BASE_URL": standin.url,
            # Both LINE hosts at the stand-in: LINE's own would make the run production.
            "LINE_DATA_API_BASE_URL": standin.url,
        }
        if self.kind == "minimal":
            argv = [
                sys.executable,
                "-m",
                "uvicorn",
                "minimal_bot:app",
                "--app-dir",
                str(BENCH_DIR),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ]
            self.proc = Proc(self.name, argv, clean_env(dirs, **common), dirs)
            await wait_ready(self.proc, f"{self.url}/openapi.json")
            return
        self.db_url = self._fresh_database(dirs.work)
        env = clean_env(
            dirs,
            **common,
            DATABASE_URL=self.db_url,
            TSUNAGARI_RUN_SCHEDULER="false",
            TSUNAGARI_RUN_SENDER="false",
        )
        if self.lanes:
            env["TSUNAGARI_LANES"] = str(self.lanes)
        if self.inline:
            env["TSUNAGARI_WORKER"] = "inline"
        argv = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
        self.proc = Proc(self.name, argv, env, dirs)
        await wait_ready(self.proc, f"{self.url}/readyz")

    def stop(self) -> None:
        """Stop the process and forget its database."""
        if self.proc is not None:
            self.proc.stop()
        self.proc = None
        self._drop_database()

    def _fresh_database(self, work: Path) -> str:
        if self.db == "sqlite":
            return f"sqlite:///{work / f'{self.name}-{self.starts}.db'}"
        import psycopg

        self.schema = "bench_" + uuid.uuid4().hex[:10]
        self.schemas.append(self.schema)
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{self.schema}"')
        return f"{PG_BASE}?options=-csearch_path%3D{self.schema}"

    def _drop_database(self) -> None:
        if self.db == "sqlite" and self.db_url:
            for suffix in ("", "-wal", "-shm"):
                Path(self.db_url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        if self.db == "postgres" and self.schemas:
            import psycopg

            with psycopg.connect(PG_BASE, autocommit=True) as conn:
                for schema in self.schemas:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            self.schemas.clear()
        self.db_url = ""

    def settle(self) -> None:
        """Before a measured run on PostgreSQL, write out what earlier runs (and the
        migrations of a fresh schema: thousands of new files) left dirty, as pgbench does.
        Otherwise the timed checkpoint that flushes them lands in a run at random and stalls
        its commits for up to ~100 ms on this VM; a server in service is not made of new
        tables. Explicit checkpoints also restart checkpoint_timeout."""
        if self.db != "postgres":
            return
        import psycopg

        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute("CHECKPOINT")

    def stored(self, event_ids: Sequence[str]) -> dict[str, int] | None:
        """How many of ``event_ids`` the bot's database holds, by status (Tsunagari only)."""
        if self.kind != "tsunagari":
            return None
        counts: Counter[str] = Counter()
        for start in range(0, len(event_ids), 500):
            chunk = list(event_ids[start : start + 500])
            for status, count in self._count(chunk):
                counts[str(status)] += int(count)
        return dict(counts)

    def _count(self, ids: list[str]) -> Iterable[tuple[Any, Any]]:
        sql = (
            "SELECT status, count(*) FROM webhook_event"
            " WHERE webhook_event_id IN ({}) GROUP BY status"
        )
        if self.db == "sqlite":
            path = self.db_url.removeprefix("sqlite:///")
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as conn:
                return conn.execute(sql.format(",".join("?" * len(ids))), ids).fetchall()
        import psycopg

        with psycopg.connect(PG_BASE, options=f"-csearch_path={self.schema}") as conn:
            return conn.execute(sql.format(",".join(["%s"] * len(ids))), ids).fetchall()


# --- one run ---------------------------------------------------------------------------------


@dataclass
class RunResult:
    """What one bot did with one offered rate in one repetition."""

    target: str
    rate: int
    rep: int
    events: int
    send_lag_p99_ms: float
    ack_ok: int
    ack_timeouts: int
    ack_errors: int
    ack_other: dict[str, int]
    ack_p50_ms: float
    ack_p99_ms: float
    ack_max_ms: float
    processed: int  # acknowledged 200 in time and exactly one reply recorded
    replied_once: int
    unreplied: int
    duplicates: int  # events with more than one reply request
    pushes: int
    spec_violations: int
    reply_p50_ms: float
    reply_p99_ms: float
    done_per_s: float
    stored: dict[str, int] | None
    cpu_bot_s: float
    cpu_standin_s: float
    cpu_loadgen_s: float
    machine_busy_s: float  # CPU seconds used on the whole machine while the run was measured
    window_s: float  # wall time over which the CPU figures were measured
    wall_s: float
    reply_kinds: dict[str, int] = field(default_factory=dict)

    @property
    def other_cores(self) -> float:
        """Cores used by processes other than the bot, the stand-in and the load generator
        while the run was measured (PostgreSQL's server counts here)."""
        ours = self.cpu_bot_s + self.cpu_standin_s + self.cpu_loadgen_s
        return (self.machine_busy_s - ours) / max(self.window_s, 1e-9)

    @property
    def sustained(self) -> bool:
        """Every event processed exactly once within the grace time, nothing pushed instead."""
        return self.processed == self.events and self.duplicates == 0 and self.pushes == 0


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (nearest rank) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


async def run_once(
    session: aiohttp.ClientSession,
    standin: Standin,
    target: Target,
    rate: int,
    rep: int,
    args: argparse.Namespace,
    duration: float | None = None,
) -> RunResult:
    """Offer ``rate`` events a second for ``duration`` (default ``args.duration``) seconds,
    then count the replies."""
    assert target.proc is not None
    n = max(1, int(rate * (duration or args.duration)))
    users = users_for_run(
        f"{target.name}-{rate}-{rep}-{uuid.uuid4().hex[:6]}",
        n,
        regulars=args.regulars,
        regular_share=args.regular_share,
    )
    tokens = await standin.reset_and_issue(session, users)
    target.settle()
    events = [
        text_event(user, token, TEXTS[i % len(TEXTS)])
        for i, (user, token) in enumerate(zip(users, tokens, strict=True))
    ]
    bodies = [signed_body([event], SECRET) for event in events]
    cpu0 = (
        target.proc.cpu_seconds(),
        standin.proc.cpu_seconds(),
        time.process_time(),
        machine_busy(),
        time.monotonic(),
    )
    sends = await open_loop(f"{target.url}/callback", bodies, rate)
    deadline = sends[-1].due + args.grace
    records = await _wait_for_replies(session, standin, set(tokens), deadline)
    cpu1 = (
        target.proc.cpu_seconds(),
        standin.proc.cpu_seconds(),
        time.process_time(),
        machine_busy(),
        time.monotonic(),
    )
    stored = target.stored([e["webhookEventId"] for e in events])
    return _summarise(
        target.name,
        rate,
        rep,
        sends,
        tokens,
        records,
        stored,
        [b - a for a, b in zip(cpu0, cpu1, strict=True)],
    )


async def _wait_for_replies(
    session: aiohttp.ClientSession, standin: Standin, tokens: set[str], deadline: float
) -> list[dict[str, Any]]:
    while True:
        records = await standin.requests(session)
        replied = {r["reply_token"] for r in records if r["status"] == 200 and r["reply_token"]}
        if tokens <= replied or time.monotonic() >= deadline:
            # A short settle so that a late duplicate of an already-replied event shows too.
            await asyncio.sleep(0.3)
            return await standin.requests(session)
        await asyncio.sleep(0.25)


def _summarise(
    name: str,
    rate: int,
    rep: int,
    sends: list[Sent],
    tokens: list[str],
    records: list[dict[str, Any]],
    stored: dict[str, int] | None,
    cpu: list[float],
) -> RunResult:
    replies: dict[str, list[dict[str, Any]]] = {}
    kinds: Counter[str] = Counter()
    for record in records:
        if record["path"].startswith("/v2/bot/message/reply") and record["reply_token"]:
            replies.setdefault(record["reply_token"], []).append(record)
            if record["status"] == 200:
                kinds["+".join(record["kinds"])] += 1
    ok = [s for s in sends if s.status == 200]
    acks = [s.latency * 1000 for s in ok]
    processed, once, reply_ms, last = 0, 0, [], sends[0].due
    for sent, token in zip(sends, tokens, strict=True):
        attempts = replies.get(token, [])
        good = [r for r in attempts if r["status"] == 200]
        if len(good) == 1 and len(attempts) == 1:
            once += 1
            if sent.status == 200:
                processed += 1
                reply_ms.append((good[0]["at"] - sent.started) * 1000)
                last = max(last, good[0]["at"])
    other = Counter(str(s.status) for s in sends if s.status not in (None, 200))
    return RunResult(
        target=name,
        rate=rate,
        rep=rep,
        events=len(sends),
        send_lag_p99_ms=percentile([(s.started - s.due) * 1000 for s in sends], 99),
        ack_ok=len(ok),
        ack_timeouts=sum(s.error == "timeout" for s in sends),
        ack_errors=sum(bool(s.error) and s.error != "timeout" for s in sends),
        ack_other=dict(other),
        ack_p50_ms=percentile(acks, 50),
        ack_p99_ms=percentile(acks, 99),
        ack_max_ms=max(acks, default=float("nan")),
        processed=processed,
        replied_once=once,
        unreplied=sum(1 for t in tokens if t not in replies),
        duplicates=sum(1 for t in tokens if len(replies.get(t, [])) > 1),
        pushes=sum(1 for r in records if r["path"].startswith("/v2/bot/message/push")),
        spec_violations=sum(1 for r in records if r["spec_errors"]),
        reply_p50_ms=percentile(reply_ms, 50),
        reply_p99_ms=percentile(reply_ms, 99),
        done_per_s=processed / max(1e-9, last - sends[0].due) if processed > 1 else 0.0,
        stored=stored,
        cpu_bot_s=cpu[0],
        cpu_standin_s=cpu[1],
        cpu_loadgen_s=cpu[2],
        machine_busy_s=cpu[3],
        window_s=cpu[4],
        wall_s=sends[-1].finished - sends[0].due,
        reply_kinds=dict(kinds),
    )


# --- the whole benchmark --------------------------------------------------------------------


TARGETS = {
    "minimal": ("minimal-sdk", "minimal", None),
    "sqlite": ("tsunagari-sqlite", "tsunagari", "sqlite"),
    "postgres": ("tsunagari-postgres", "tsunagari", "postgres"),
    "sqlite-inline": ("tsunagari-sqlite-inline", "tsunagari", "sqlite"),
    "postgres-inline": ("tsunagari-postgres-inline", "tsunagari", "postgres"),
}


def build_targets(args: argparse.Namespace) -> list[Target]:
    """The bots to compare, in the order they run within each repetition."""
    return [
        Target(*TARGETS[key], lanes=args.lanes, inline=key.endswith("-inline"))
        for key in args.targets
    ]


@dataclass
class Outcome:
    """What the benchmark has measured so far (kept when it is interrupted)."""

    results: list[RunResult] = field(default_factory=list)
    spec: bool = False  # whether the stand-in checked every request against LINE's spec


async def bench(args: argparse.Namespace, dirs: Dirs, outcome: Outcome) -> None:
    """Every repetition of every bot at every rate, recorded in ``outcome`` as they finish;
    bots restart fresh after an overload."""
    results = outcome.results
    standin = Standin(dirs, args.latency)
    targets = build_targets(args)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            await standin.start(session)
            outcome.spec = standin.spec
            for rep in range(1, args.reps + 1):
                for target in targets:
                    await _bench_target(session, standin, target, rep, args, dirs, results)
    finally:
        for target in targets:
            target.stop()
        standin.proc.stop()


async def _bench_target(
    session: aiohttp.ClientSession,
    standin: Standin,
    target: Target,
    rep: int,
    args: argparse.Namespace,
    dirs: Dirs,
    results: list[RunResult],
) -> None:
    await _start_warm(session, standin, target, args, dirs)
    failed = False
    try:
        for rate in args.rates:
            if failed and rate not in ACK_RATES:
                continue  # past its sustained rate only the acknowledgement rates matter
            result = await run_once(session, standin, target, rate, rep, args)
            failed = failed or not result.sustained
            results.append(result)
            _progress(result)
            if not result.sustained or result.ack_timeouts:
                # Backlog or requests still running inside the bot: start the next rate clean.
                target.stop()
                await _start_warm(session, standin, target, args, dirs)
    finally:
        target.stop()


async def _start_warm(
    session: aiohttp.ClientSession,
    standin: Standin,
    target: Target,
    args: argparse.Namespace,
    dirs: Dirs,
) -> None:
    """Start the bot and send it a few unmeasured events: the first requests of a process pay
    for lazy imports, template compilation and new connections, which no steady rate has."""
    await target.start(standin, dirs)
    # serve answers /readyz before its worker process has imported everything: warm up
    # until the events are processed too (or give up after a few rounds and say so).
    for _ in range(WARM_ROUNDS):
        warm = await run_once(session, standin, target, WARM_RATE, 0, args, WARM_SECONDS)
        if warm.sustained:
            return
    print(f"  warning: {target.name} did not finish its warm-up: {warm}", file=sys.stderr)


def _progress(r: RunResult) -> None:
    print(
        f"  rep {r.rep} {r.target:<19} {r.rate:>4}/s  ack p50 {r.ack_p50_ms:7.1f} ms"
        f"  p99 {r.ack_p99_ms:7.1f} ms  timeouts {r.ack_timeouts:>4}"
        f"  processed {r.processed:>5}/{r.events:<5} dup {r.duplicates}  "
        f"done {r.done_per_s:6.1f}/s  stored {r.stored}  "
        f"cores bot {r.cpu_bot_s / r.window_s:.2f} other {r.other_cores:.2f}",
        file=sys.stderr,
        flush=True,
    )


# --- report ----------------------------------------------------------------------------------


def med(values: Iterable[float]) -> float:
    """Median of the values that are numbers."""
    clean = [v for v in values if v == v]
    return statistics.median(clean) if clean else float("nan")


def _fmt(value: float, digits: int = 1) -> str:
    return "–" if value != value else f"{value:.{digits}f}"


def sustained_rate(results: list[RunResult], target: str, rep: int) -> int:
    """The highest offered rate, in this repetition, below which every rate was sustained."""
    best = 0
    for r in sorted(
        (r for r in results if r.target == target and r.rep == rep), key=lambda r: r.rate
    ):
        if not r.sustained:
            break
        best = r.rate
    return best


def report(
    results: list[RunResult], args: argparse.Namespace, machine: dict[str, str], spec: bool
) -> str:
    """The markdown report: machine, tables (a) and (b), and the issue's targets."""
    targets = list(dict.fromkeys(r.target for r in results))
    reps = sorted({r.rep for r in results})
    cell = {(r.target, r.rate, r.rep): r for r in results}
    out = [f"# Webhook ingest benchmark, {machine['date']}", ""]
    out += [f"- {k}: {v}" for k, v in machine.items() if k != "date"]
    out += [
        f"- LINE stand-in: separate process, {args.latency * 1000:.0f} ms latency per call, "
        f"requests checked against LINE's OpenAPI spec: {'yes' if spec else 'no (spec absent)'}",
        f"- load: open loop, one text event per signed webhook request, {args.duration:g} s per "
        f"rate, {args.regular_share:.0%} of events from {args.regulars} repeated users, the rest "
        f"from distinct users; LINE's 2 s webhook timeout; grace for replies {args.grace:g} s "
        "after the last event",
        f"- figures are medians over {len(reps)} repetition(s); every bot restarts with an "
        "empty database after a rate it could not sustain",
        f"- command: `{' '.join(['python', 'bench/bench_ingest.py', *sys.argv[1:]])}`",
        "",
        "## (a) Acknowledgement latency (ms from sending the webhook to its HTTP answer)",
        "",
        "| bot | offered/s | ack p50 | ack p99 | ack max | 200s | timed out (2 s) | send lag p99 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for t in targets:
        for rate in args.rates:
            rs = [cell[(t, rate, rep)] for rep in reps if (t, rate, rep) in cell]
            if not rs:
                continue
            out.append(
                f"| {t} | {rate} | {_fmt(med(r.ack_p50_ms for r in rs))} | "
                f"{_fmt(med(r.ack_p99_ms for r in rs))} | {_fmt(med(r.ack_max_ms for r in rs))} | "
                f"{_fmt(med(100 * r.ack_ok / r.events for r in rs))} % | "
                f"{_fmt(med(r.ack_timeouts for r in rs), 0)} | "
                f"{_fmt(med(r.send_lag_p99_ms for r in rs))} |"
            )
    out += _processing_table(targets, reps, cell, args)
    out += _targets(results, targets, reps, cell)
    return "\n".join(out) + "\n"


def _processing_table(
    targets: list[str], reps: list[int], cell: dict[Any, RunResult], args: argparse.Namespace
) -> list[str]:
    out = [
        "",
        "## (b) Processing: every event replied to exactly once",
        "",
        "An event counts as processed when its webhook was answered 200 within 2 s and the "
        "stand-in recorded exactly one reply with its token. *done/s* is processed events "
        "divided by the time from the first event to the last counted reply.",
        "",
        "| bot | offered/s | processed | sustained (reps) | done/s | event→reply p50 | "
        "p99 | duplicates | pushes | stored in DB | cores: bot / stand-in / others |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for t in targets:
        for rate in args.rates:
            rs = [cell[(t, rate, rep)] for rep in reps if (t, rate, rep) in cell]
            if not rs:
                continue
            stored = (
                "–"
                if rs[0].stored is None
                else _fmt(med(100 * sum(r.stored.values()) / r.events for r in rs if r.stored))
                + " %"
            )
            out.append(
                f"| {t} | {rate} | {_fmt(med(100 * r.processed / r.events for r in rs))} % | "
                f"{sum(r.sustained for r in rs)}/{len(rs)} | "
                f"{_fmt(med(r.done_per_s for r in rs))} | "
                f"{_fmt(med(r.reply_p50_ms for r in rs), 0)} | "
                f"{_fmt(med(r.reply_p99_ms for r in rs), 0)} | "
                f"{sum(r.duplicates for r in rs)} | {sum(r.pushes for r in rs)} | {stored} | "
                f"{_fmt(med(r.cpu_bot_s / r.window_s for r in rs), 2)} / "
                f"{_fmt(med(r.cpu_standin_s / r.window_s for r in rs), 2)} / "
                f"{_fmt(med(r.other_cores for r in rs), 2)} |"
            )
    return out


def _targets(
    results: list[RunResult], targets: list[str], reps: list[int], cell: dict[Any, RunResult]
) -> list[str]:
    out = [
        "",
        "## Summary against the issue's targets",
        "",
        "| bot | sustained rate (median) | per rep | most done/s at any rate | "
        "ack p99 at 200/s | p99 ratio to minimal at 200/s | spec violations | duplicates |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    base = med(
        cell[("minimal-sdk", 200, rep)].ack_p99_ms
        for rep in reps
        if ("minimal-sdk", 200, rep) in cell
    )
    for t in targets:
        per_rep = [sustained_rate(results, t, rep) for rep in reps]
        p99 = med(cell[(t, 200, rep)].ack_p99_ms for rep in reps if (t, 200, rep) in cell)
        ratio = p99 / base if base == base and base > 0 else float("nan")
        rs = [r for r in results if r.target == t]
        best = med(max(r.done_per_s for r in rs if r.rep == rep) for rep in reps)
        out.append(
            f"| {t} | {_fmt(med(per_rep), 0)}/s | {', '.join(map(str, per_rep))} | "
            f"{_fmt(best)} | {_fmt(p99)} ms | {_fmt(ratio, 3)} | "
            f"{sum(r.spec_violations for r in rs)} | {sum(r.duplicates for r in rs)} |"
        )
    return out


def machine_info() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    return {
        "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "load average at start (1/5/15 min)": " / ".join(f"{v:.1f}" for v in os.getloadavg()),
        "machine": f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}",
        "shared cores": "load generator, stand-in, bot and PostgreSQL all run on these cores",
        "software": f"Python {platform.python_version()}, line-bot-sdk "
        f"{metadata.version('line-bot-sdk')}, uvicorn {metadata.version('uvicorn')}, "
        f"aiohttp {metadata.version('aiohttp')}",
    }


def code_version(snapshot: bool) -> str:
    """The commit the bots ran, whether the working tree differed, and how it was taken."""

    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], cwd=REPO, capture_output=True, text=True)  # noqa: S603, S607
        return done.stdout.strip()

    dirty = bool(git("status", "--porcelain", "--", "bot", "content", "migrations"))
    how = "snapshot of the working tree at start" if snapshot else "live working tree"
    return (
        f"{git('rev-parse', '--short', 'HEAD')}{' + uncommitted changes' if dirty else ''} ({how})"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--rates",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[50, 100, 150, 200, 300, 500],
        help="offered rates, events/s, ascending; above a bot's first unsustained rate "
        "only 50, 200 and 500 are run",
    )
    p.add_argument("--duration", type=float, default=4.0, help="seconds per rate")
    p.add_argument("--reps", type=int, default=3, help="repetitions")
    p.add_argument(
        "--grace",
        type=float,
        default=2.0,
        help="seconds after the last event within which every reply must be recorded",
    )
    p.add_argument("--latency", type=float, default=0.08, help="stand-in latency, seconds")
    p.add_argument("--regulars", type=int, default=20, help="users who write repeatedly")
    p.add_argument(
        "--regular-share", type=float, default=0.25, help="share of events from the repeated users"
    )
    p.add_argument("--lanes", type=int, default=None, help="TSUNAGARI_LANES (default: the bot's)")
    p.add_argument(
        "--targets",
        type=lambda s: s.split(","),
        default=list(TARGETS),
        help="bots to run, from minimal,sqlite,postgres,sqlite-inline,postgres-inline "
        "(default: all)",
    )
    p.add_argument(
        "--live-tree",
        action="store_true",
        help="run bot/ and content/ from the working tree instead of a snapshot "
        "taken at start (others' edits would then reach the bots mid-run)",
    )
    p.add_argument("--quick", action="store_true", help="one repetition of 2 s runs")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "results")
    args = p.parse_args(argv)
    if args.quick:
        args.reps, args.duration = 1, 2.0
    unknown = set(args.targets) - set(TARGETS)
    if unknown:
        p.error(f"unknown targets: {', '.join(sorted(unknown))}")
    for rate in ACK_RATES:
        if rate not in args.rates:
            print(f"note: {rate}/s is not among --rates; table (a) will lack it", file=sys.stderr)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run, print the markdown report, and write it (and the raw runs) to bench/results/."""
    args = parse_args(argv)
    # SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C, so the bots and schemas are removed.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    machine = machine_info()
    started = time.monotonic()
    stem = f"ingest-{datetime.now():%Y-%m-%d-%H%M}"
    logs = args.out / f"{stem}-logs"
    logs.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tsunagari-bench-") as tmp:
        src = None if args.live_tree else snapshot_sources(Path(tmp) / "src")
        machine["code"] = code_version(src is not None)
        print(f"process logs in {logs}; machine: {machine['machine']}", file=sys.stderr)
        outcome, interrupted = Outcome(), False
        try:
            asyncio.run(bench(args, Dirs(logs, Path(tmp), src), outcome))
        except KeyboardInterrupt:
            interrupted = True  # report what was measured; the bots have been stopped
    results = outcome.results
    text = report(results, args, machine, outcome.spec)
    if interrupted:
        text = "**Interrupted: partial results.**\n\n" + text
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    text += f"\nTotal benchmark time: {time.monotonic() - started:.0f} s; "
    text += f"load average at the end (1/5/15 min): {load}.\n"
    print(text)
    (args.out / f"{stem}.md").write_text(text)
    raw = [asdict(r) | {"sustained": r.sustained} for r in results]
    (args.out / f"{stem}.json").write_text(json.dumps(raw, indent=1))
    print(f"written: {args.out / (stem + '.md')} and .json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
