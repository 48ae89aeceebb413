"""Safety-check surge: every member household answers within minutes (issue 20).

`tsunagari serve` (SQLite, PostgreSQL) with N member households, one LINE member each, and a
safety check sent to them; each household taps 無事 / 助けが必要 / 不在・避難中 once, as a signed
postback, open loop at N / seconds answers a second (30,000 in 180 s ≈ 167/s), against the
LINE stand-in answering after 80 ms. Measured: acknowledgement latency, whether every
answer got exactly one reply and every household is counted once, how long after the last
answer the live counts (the staff page's query, `checks.counts`, read every second) showed
them all, and CPU of the bot's processes per handled answer. Halfway through, the worker
is killed (SIGKILL; `--no-kill-worker` to leave it): serve must restart it, and the
figures then also say how long processing stood still and whether anything was lost.
Beside it, the SDK's example
bot (`minimal_bot.py`) handling text messages at the rate it sustains, for its CPU per
handled message.

    python bench/bench_safety.py                         # 30,000 in 180 s, both databases
    python bench/bench_safety.py --households 10000 --seconds 60   # a reduced run
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import bench_ingest  # noqa: E402
from _load import open_loop, signed_body, text_event, user_id  # noqa: E402
from bench_ingest import (  # noqa: E402
    SECRET,
    Dirs,
    Standin,
    Target,
    _cpu_of,
    _family,
    _wait_for_replies,
    machine_info,
    percentile,
)

STATES = ("safe", "help", "away")
READY_S = 240.0  # start-up on a machine shared with other work can take minutes


async def _patient_ready(proc: Any, url: str, timeout: float = READY_S) -> None:
    await _ready(proc, url, max(timeout, READY_S))


_ready = bench_ingest.wait_ready
bench_ingest.wait_ready = _patient_ready  # Target.start looks it up on its module


def postback_event(user: str, reply_token: str, data: str) -> dict[str, Any]:
    """A postback event as LINE's webhook sends it (a button tapped)."""
    event = text_event(user, reply_token, "")
    del event["message"]
    event.update(type="postback", postback={"data": data})
    return event


_ENGINES: dict[str, Any] = {}


def _engine(db_url: str) -> Any:
    """One engine per database for the whole run (one a second leaked connections until
    PostgreSQL refused more)."""
    from sqlmodel import create_engine

    if db_url not in _ENGINES:
        url = db_url.replace("postgresql://", "postgresql+psycopg://", 1)
        _ENGINES[db_url] = create_engine(url, pool_size=2, max_overflow=2)
    return _ENGINES[db_url]


def seed(db_url: str, households: int, run: str) -> tuple[int, list[str]]:
    """An association of `households` households in 班 of 20, one LINE member each, and a
    safety check sent to it (snapshot only: the pushes are not what is measured)."""
    from sqlalchemy import insert, select
    from sqlmodel import Session

    from bot.core.models.areas import Association, District, Ward
    from bot.core.models.households import Household
    from bot.core.models.membership import Membership
    from bot.core.models.residents import Resident
    from bot.features import tables as _tables  # noqa: F401 - every table on the metadata
    from bot.features.safety import checks

    now = datetime.now(UTC)
    users = [user_id(f"{run}-{i}") for i in range(households)]
    with Session(_engine(db_url)) as db:
        ward = Ward(code="W", name="区")
        db.add(ward)
        db.flush()
        district = District(code="D", ward_id=int(ward.id or 0), name="地区")
        db.add(district)
        db.flush()
        association = Association(code="A", district_id=int(district.id or 0), name="町内会")
        db.add(association)
        db.flush()
        a = int(association.id or 0)
        for start in range(0, households, 2000):
            part = range(start, min(households, start + 2000))
            db.execute(
                insert(Household),
                [
                    {"association_id": a, "han": f"{i // 20 + 1}班", "address": f"本町{i}",
                     "contact_name": "", "reach": "line", "language": "ja", "key": f"k{i}",
                     "source": "roster", "created_at": now, "updated_at": now}
                    for i in part
                ],
            )  # fmt: skip
            db.execute(
                insert(Resident),
                [{"line_user_id": users[i], "locale": "ja", "status": "active",
                  "created_at": now} for i in part],
            )  # fmt: skip
        rids = dict(db.execute(select(Resident.line_user_id, Resident.id)).all())
        hids = dict(db.execute(select(Household.key, Household.id)).all())
        for start in range(0, households, 2000):
            db.execute(
                insert(Membership),
                [{"resident_id": rids[users[i]], "association_id": a, "status": "approved",
                  "applied_at": now, "household_id": hids[f"k{i}"]}
                 for i in range(start, min(households, start + 2000))],
            )  # fmt: skip
        check = checks.draft(db, area_kind="association", area_id=a, template="earthquake",
                             visit_after=30, now=now)  # fmt: skip
        checks.send(db, check_id=int(check.id or 0), now=now)
        db.commit()
        return int(check.id or 0), users


def counted(db_url: str, check_id: int) -> tuple[int, int]:
    """(households answered, households in all) as the live page reads them."""
    from sqlmodel import Session

    from bot.features.safety import checks

    with Session(_engine(db_url)) as db:
        found = checks.counts(db, check_id)
    return found.households - found.states["none"], found.households


async def watch_counts(
    db_url: str, check_id: int, total: int, stop: asyncio.Event, seen: list[tuple[float, int]]
) -> None:
    """Read the live counts every second (as a staff member's page would) until all are in."""
    while not stop.is_set():
        answered, _all = await asyncio.to_thread(counted, db_url, check_id)
        seen.append((time.monotonic(), answered))
        if answered >= total:
            return
        await asyncio.sleep(1.0)


def handled(engine: Any) -> int:
    """Events the worker has finished (whatever became of them)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        found = conn.execute(text("SELECT count(*) FROM webhook_event WHERE status <> 'pending'"))
        return int(found.scalar() or 0)


def worker_of(serve_pid: int) -> int | None:
    """The `tsunagari worker` serve started that is at work (not its spare)."""
    from bot.worker import ACTIVE_NAME

    for pid in _family(serve_pid)[1:]:
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == ACTIVE_NAME:
                return pid
        except OSError:
            continue
    return None


async def kill_worker_midway(target: Target, at_s: float, killed: dict[str, float]) -> None:
    """SIGKILL serve's worker `at_s` seconds in; then time until it handles events again.

    Its CPU until the kill is kept in `killed["cpu"]` (a dead process's time is gone from
    /proc). Resumed = the finished count grows past what it was at the kill."""
    await asyncio.sleep(at_s)
    assert target.proc is not None
    pid = worker_of(target.proc.popen.pid)
    if pid is None:
        return
    engine = _engine(target.db_url)
    killed["cpu"] = _cpu_of(pid)
    os.kill(pid, signal.SIGKILL)
    start = time.monotonic()
    killed["at"] = start
    await asyncio.sleep(0.2)  # nothing the dead process did can still commit after this
    before = await asyncio.to_thread(handled, engine)
    while time.monotonic() - start < 120:
        if await asyncio.to_thread(handled, engine) > before:
            killed["resumed_after_s"] = time.monotonic() - start
            break
        await asyncio.sleep(0.1)


def cpu_split(target: Target) -> tuple[float, float]:
    """(serve's own CPU seconds, its children's: the worker)."""
    assert target.proc is not None
    family = _family(target.proc.popen.pid)
    return _cpu_of(family[0]), sum(_cpu_of(p) for p in family[1:])


async def surge(
    session: aiohttp.ClientSession, standin: Standin, target: Target, args: argparse.Namespace
) -> dict[str, Any]:
    """One surge against a fresh Tsunagari: seed, answer, count."""
    run = uuid.uuid4().hex[:6]
    check_id, users = await asyncio.to_thread(seed, target.db_url, args.households, run)
    tokens = await standin.reset_and_issue(session, users)
    target.settle()
    data = [f"a=sfa&c={check_id}&s={STATES[i % 3]}" for i in range(len(users))]
    bodies = [
        signed_body([postback_event(u, t, d)], SECRET)
        for u, t, d in zip(users, tokens, data, strict=True)
    ]
    rate = args.households / args.seconds
    assert target.proc is not None
    serve0, worker0 = cpu_split(target)
    stop, seen = asyncio.Event(), []
    watcher = asyncio.create_task(watch_counts(target.db_url, check_id, len(users), stop, seen))
    killed: dict[str, float] = {}
    killer = (
        asyncio.create_task(kill_worker_midway(target, args.seconds / 2, killed))
        if args.kill_worker
        else None
    )
    sends = await open_loop(f"{target.url}/callback", bodies, rate)
    last_ack = max(s.finished for s in sends)
    records = await _wait_for_replies(session, standin, set(tokens), sends[-1].due + args.grace)
    try:
        await asyncio.wait_for(watcher, timeout=60)
    except TimeoutError:
        stop.set()
    if killer is not None:
        await killer
    serve1, worker1 = cpu_split(target)
    serve_cpu = serve1 - serve0
    worker_cpu = worker1 + killed.get("cpu", 0.0) - worker0
    cpu = serve_cpu + worker_cpu
    answered, total = await asyncio.to_thread(counted, target.db_url, check_id)
    # Replies LINE accepted (a second attempt with a spent token reaches nobody).
    replies = Counter(
        r["reply_token"] for r in records if r["path"].endswith("/reply") and r["status"] == 200
    )
    acks = [s.latency * 1000 for s in sends if s.status == 200]
    complete = next((t for t, n in seen if n >= len(users)), None)
    return {
        "bot": f"Tsunagari serve, {target.db}",
        "answers": len(users),
        "rate": round(rate, 1),
        "ack_p50": percentile(acks, 50),
        "ack_p99": percentile(acks, 99),
        "not_acked": len(sends) - len(acks),
        "replied_once": sum(1 for t in tokens if replies.get(t) == 1),
        "replied_twice": sum(1 for t in tokens if replies.get(t, 0) > 1),
        "counted": answered,
        "households": total,
        "counts_after_last_s": None if complete is None else max(0.0, complete - last_ack),
        "cpu_ms_per_answer": cpu * 1000 / max(1, answered),
        "cpu_ms_serve": serve_cpu * 1000 / max(1, answered),
        "cpu_ms_worker": worker_cpu * 1000 / max(1, answered),
        "worker_killed": "at" in killed,
        "resumed_after_s": killed.get("resumed_after_s"),
    }


async def baseline(
    session: aiohttp.ClientSession, standin: Standin, target: Target, args: argparse.Namespace
) -> dict[str, Any]:
    """The SDK example bot at the rate it sustains: CPU per handled (replied) message."""
    n = int(args.baseline_rate * args.baseline_seconds)
    users = [user_id(f"min-{uuid.uuid4().hex[:6]}-{i}") for i in range(n)]
    tokens = await standin.reset_and_issue(session, users)
    bodies = [
        signed_body([text_event(u, t, "こんにちは")], SECRET)
        for u, t in zip(users, tokens, strict=True)
    ]
    assert target.proc is not None
    cpu0 = target.proc.cpu_seconds()
    sends = await open_loop(f"{target.url}/callback", bodies, args.baseline_rate)
    records = await _wait_for_replies(session, standin, set(tokens), sends[-1].due + args.grace)
    cpu = target.proc.cpu_seconds() - cpu0
    replied = {r["reply_token"] for r in records if r["status"] == 200 and r["reply_token"]}
    acks = [s.latency * 1000 for s in sends if s.status == 200]
    return {
        "bot": "minimal (SDK example)",
        "answers": n,
        "rate": args.baseline_rate,
        "ack_p50": percentile(acks, 50),
        "ack_p99": percentile(acks, 99),
        "replied_once": len(replied),
        "cpu_ms_per_answer": cpu * 1000 / max(1, len(replied)),
    }


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run the targets one after the other on one stand-in."""
    import tempfile

    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-safety-") as tmp:
        logs = Path(args.logs) if args.logs else Path(tmp) / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        # The bots import this checkout (not the editable install the venv points at).
        dirs = Dirs(logs=logs, work=Path(tmp), src=Path(__file__).resolve().parent.parent)
        # Tokens are issued before the surge: they live a minute past its end, as LINE's
        # would a minute past each answer.
        standin = Standin(dirs, args.latency, token_ttl_s=args.seconds + 60)
        async with aiohttp.ClientSession() as session:
            await standin.start(session)
            try:
                for name in args.targets:
                    kind = "minimal" if name == "minimal" else "tsunagari"
                    target = Target(name, kind, None if kind == "minimal" else name)
                    await target.start(standin, dirs)
                    try:
                        run = baseline if kind == "minimal" else surge
                        out.append(await run(session, standin, target, args))
                        print(out[-1], flush=True)  # noqa: T201 - a benchmark's progress
                    finally:
                        engine = _ENGINES.pop(target.db_url, None)
                        if engine is not None:
                            engine.dispose()
                        target.stop()
            finally:
                standin.proc.stop()
    return out


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--households", type=int, default=30_000)
    p.add_argument("--seconds", type=float, default=180.0, help="the surge's length")
    p.add_argument("--targets", type=lambda s: s.split(","), default=["sqlite", "postgres",
                   "minimal"])  # fmt: skip
    p.add_argument("--baseline-rate", type=int, default=100, help="the SDK bot's sustained rate")
    p.add_argument("--baseline-seconds", type=float, default=20.0)
    p.add_argument("--grace", type=float, default=30.0, help="seconds for the last replies")
    p.add_argument("--latency", type=float, default=0.08, help="stand-in latency, seconds")
    p.add_argument("--logs", default="", help="keep the processes' logs in this folder")
    p.add_argument("--kill-worker", action=argparse.BooleanOptionalAction, default=True,
                   help="SIGKILL serve's worker halfway through the surge")  # fmt: skip
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run and print the figures."""
    args = parse_args(argv)
    print(machine_info(), flush=True)  # noqa: T201
    results = asyncio.run(main_async(args))
    minimal = next((r for r in results if r["bot"].startswith("minimal")), None)
    for r in results:
        ratio = (
            f" ({r['cpu_ms_per_answer'] / minimal['cpu_ms_per_answer']:.2f}× the SDK bot)"
            if minimal and r is not minimal
            else ""
        )
        print(f"{r['bot']}: CPU {r['cpu_ms_per_answer']:.2f} ms per answer{ratio}")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
