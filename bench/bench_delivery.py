"""Delivery benchmark: one notice to 10,000 and 100,000 members through the LINE stand-in.

The stand-in enforces LINE's documented multicast limit (200 requests a second) and answers
after `--latency` seconds; the sender runs as its own process (`python -m bot sender
--until-idle`, its settings' defaults unless told otherwise) against a fresh SQLite file (or
a PostgreSQL schema with `--database postgres`). For each size the report gives:

- API calls: multicast requests the stand-in received (target ⌈members / 500⌉, no repeats);
- wall time: from the first call's arrival to the last one's, against the floor the rate
  limit sets for that many calls, (calls − 1) / rate (target: within 1.2× of it);
- the sender's peak resident memory (getrusage of that process; target: flat in members)
  and its CPU time, and the CPU the stand-in spent (it shares the machine);
- whether every member got the notice exactly once, and any 429s (should be none).

The stand-in's OpenAPI checks are off by default (`--check-spec` turns them on): they cost
it about 5 ms a multicast, enough to make the stand-in, not the sender, the bottleneck. The
tests keep them on.

    python bench/bench_delivery.py                        # 10,000 and 100,000 on SQLite
    python bench/bench_delivery.py --database postgres    # the same on PostgreSQL
    python bench/bench_delivery.py --sizes 2000 --latency 0.02 --rate 50

Prints a markdown table and writes it to bench/results/delivery-<date>-<time>.md.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.core.models.residents import Resident  # noqa: E402
from bot.db import make_engine, session_scope  # noqa: E402
from bot.platform import migrate  # noqa: E402
from bot.platform.delivery import outbox  # noqa: E402
from bot.simulator.server import StandinServer  # noqa: E402
from bot.simulator.spec import SpecValidator, find_spec_dir  # noqa: E402
from bot.simulator.standin import LINE_RATE_LIMITS, LineStandin  # noqa: E402

TOKEN = "bench-channel-token"
PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOTICE = [{"type": "text", "text": "【防災】避難訓練のお知らせ: 12月6日(日) 9時 小学校グラウンド"}]


@dataclass
class Result:
    """One size's figures."""

    members: int
    database: str
    enqueue_s: float
    calls: int
    expected_calls: int
    statuses: dict[int, int]
    window_s: float
    floor_s: float
    process_s: float
    cpu_s: float
    standin_cpu_s: float
    peak_rss_mb: float
    exactly_once: bool

    @property
    def ratio(self) -> float:
        """Wall time over the floor."""
        return self.window_s / self.floor_s if self.floor_s else float("nan")


def fresh_database(kind: str, work: Path) -> tuple[str, object]:
    """A migrated database URL and something to drop it with afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{work}/delivery-{uuid.uuid4().hex[:6]}.db"
        migrate.upgrade(url)
        return url, None
    import psycopg

    schema = "bench_" + uuid.uuid4().hex[:10]
    libpq = PG_BASE.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{PG_BASE}?options=-csearch_path%3D{schema}"
    migrate.upgrade(url)
    return url, (libpq, schema)


def drop_database(handle: object) -> None:
    """Drop a PostgreSQL schema made by `fresh_database`."""
    if handle is None:
        return
    import psycopg

    libpq, schema = handle  # type: ignore[misc]
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def seed_and_enqueue(url: str, members: int) -> float:
    """Insert `members` residents, then time enqueueing one notice to all of them."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        for start in range(0, members, 10_000):
            session.execute(
                insert(Resident),
                [
                    {
                        "line_user_id": f"U{n:032x}",
                        "locale": "ja",
                        "status": "active",
                        "created_at": now,
                    }
                    for n in range(start, min(members, start + 10_000))
                ],
            )
    started = time.perf_counter()
    with session_scope(engine) as session:
        query = select(Resident.id).order_by(Resident.id)  # type: ignore[arg-type]
        ids = session.execute(query).scalars().all()
        outbox.enqueue(
            session,
            key=f"bench:{members}",
            kind="notice",
            recipient_ids=ids,
            messages=NOTICE,
            urgent=True,
            now=now,
        )
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def run_sender(
    url: str, line_url: str, args: argparse.Namespace, work: Path
) -> tuple[float, float, float]:
    """Run the sender until idle; returns (process seconds, CPU seconds, peak RSS in MiB)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TSUNAGARI_", "LINE_"))}
    env.update(
        {
            "DATABASE_URL": url,
            "LINE_API_BASE_URL": line_url,
            "LINE_DATA_API_BASE_URL": line_url,  # LINE's own host would mean production
            "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
            "TSUNAGARI_AUTO_MIGRATE": "false",
            "LOG_LEVEL": "WARNING",
            "TSUNAGARI_DELIVERY_MULTICAST_RATE": str(args.rate),
        }
    )
    if args.concurrency:
        env["TSUNAGARI_DELIVERY_CONCURRENCY"] = str(args.concurrency)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "sender", "--until-idle"], env=env, cwd=work
    )
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"the sender exited with {proc.returncode}")
    cpu = usage.ru_utime + usage.ru_stime
    return time.perf_counter() - started, cpu, usage.ru_maxrss / 1024  # Linux reports KiB


def measure(
    members: int, args: argparse.Namespace, spec: SpecValidator | None, work: Path
) -> Result:
    """Enqueue and send one notice to `members` residents; read the stand-in's log."""
    url, handle = fresh_database(args.database, work)
    try:
        enqueue_s = seed_and_enqueue(url, members)
        line = LineStandin(
            spec=spec,
            access_token=TOKEN,
            latency_s=args.latency,
            rate_limits={"multicast": args.rate},
        )
        with StandinServer(line.app) as server:
            before = resource.getrusage(resource.RUSAGE_SELF)
            process_s, cpu_s, rss = run_sender(url, server.url, args, work)
            after = resource.getrusage(resource.RUSAGE_SELF)
        standin_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        calls = [r for r in line.requests if r.path.endswith("/multicast")]
        counts = Counter(d.user_id for d in line.deliveries)
    finally:
        drop_database(handle)
    window = calls[-1].at - calls[0].at if len(calls) > 1 else 0.0
    return Result(
        members=members,
        database=args.database,
        enqueue_s=enqueue_s,
        calls=len(calls),
        expected_calls=math.ceil(members / 500),
        statuses=dict(Counter(c.status for c in calls)),
        window_s=window,
        floor_s=(len(calls) - 1) / args.rate,
        process_s=process_s,
        cpu_s=cpu_s,
        standin_cpu_s=standin_cpu,
        peak_rss_mb=rss,
        exactly_once=len(counts) == members and set(counts.values()) == {1},
    )


def report(results: list[Result], args: argparse.Namespace, spec_checked: bool) -> str:
    """The markdown report."""
    load = os.getloadavg()
    lines = [
        f"## Delivery: one notice through the stand-in ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Stand-in: multicast limited to {args.rate:g} requests/s (LINE documents "
        f"{LINE_RATE_LIMITS['multicast']:g}), answers after {args.latency * 1000:g} ms, "
        f"spec checks {'on' if spec_checked else 'off'}. Sender: "
        f"`python -m bot sender --until-idle`, {args.concurrency or 'default'} calls in flight,"
        f" token bucket at {args.rate:g}/s. Machine: {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load average {load[0]:.1f} at the end.",
        "",
        "| members | DB | API calls (target) | statuses | wall (first→last call) | floor "
        "(calls−1)/rate | × floor | sender process (CPU) | stand-in CPU | sender peak RSS | "
        "each once | enqueue |",
        "|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in results:
        statuses = ", ".join(f"{s}×{n}" for s, n in sorted(r.statuses.items()))
        lines.append(
            f"| {r.members:,} | {r.database} | {r.calls} ({r.expected_calls}) | {statuses} | "
            f"{r.window_s:.3f} s | {r.floor_s:.3f} s | {r.ratio:.2f} | {r.process_s:.1f} s "
            f"({r.cpu_s:.1f} s) | {r.standin_cpu_s:.1f} s | "
            f"{r.peak_rss_mb:.0f} MiB | {'yes' if r.exactly_once else 'NO'} | "
            f"{r.enqueue_s:.1f} s |"
        )
    lines += [
        "",
        "The floor assumes calls strictly 1/rate apart; the sender's token bucket lets a few "
        "through at once (TSUNAGARI_DELIVERY_RATE_BURST, default 10) so that a late wake-up is "
        "made up for, which is why a small run can finish under it.",
    ]
    if len(results) > 1:
        small, large = results[0], results[-1]
        lines += [
            "",
            f"Peak RSS grows {large.peak_rss_mb / small.peak_rss_mb:.2f}× while "
            f"members grow {large.members / small.members:.0f}×.",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run the benchmark and print (and save) its report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="members per run (comma list)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--rate",
        type=float,
        default=LINE_RATE_LIMITS["multicast"],
        help="multicast requests/s, enforced by the stand-in and the sender",
    )
    parser.add_argument("--latency", type=float, default=0.08, help="stand-in answer delay (s)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="sender calls in flight (default: the setting's default)",
    )
    parser.add_argument(
        "--check-spec",
        action="store_true",
        help="have the stand-in check each request against LINE's OpenAPI spec "
        "(costs it ~5 ms a multicast, enough to become the bottleneck)",
    )
    args = parser.parse_args()
    spec_dir = find_spec_dir() if args.check_spec else None
    spec = SpecValidator.load(spec_dir) if spec_dir else None
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            results.append(measure(size, args, spec, Path(tmp)))
            print(f"{size:,} members done", file=sys.stderr)
    text = report(results, args, spec is not None)
    print(text)
    out = REPO / "bench" / "results" / f"delivery-{datetime.now(UTC):%Y-%m-%d-%H%M}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
