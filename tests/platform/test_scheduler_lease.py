"""The scheduling lease on PostgreSQL: one holder at a time, in-process and with two real
`python -m bot scheduler` processes (the holder is killed and the other takes over)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
import yaml
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from bot.db import make_engine, session_scope
from bot.features.surveys.models import SurveyInvite
from bot.platform import migrate
from bot.platform.delivery.models import OutboxMessage, OutboxRecipient
from bot.platform.scheduler.lease import LEASE_NAME, AdvisoryLease, lease_key
from bot.settings import REPO_ROOT
from tests.scheduler_support import add_residents

PG_URL = os.environ.get("TSUNAGARI_TEST_POSTGRES_URL", "")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="TSUNAGARI_TEST_POSTGRES_URL is not set"),
]
WAIT_S = 20.0  # each wait below is bounded; the whole test stays well under a minute


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture
def schema_url() -> Iterator[tuple[str, str]]:
    """A migrated private schema: (SQLAlchemy URL, schema name)."""
    base = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(_libpq(base), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    try:
        migrate.upgrade(url)
        yield url, schema
    finally:
        with psycopg.connect(_libpq(base), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _lock_holders(engine: Engine, schema: str) -> list[int]:
    """Backend pids holding the scheduler's advisory lock for `schema`."""
    key = lease_key(LEASE_NAME, schema)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND ((classid::bigint << 32) | objid::bigint) = :k"
            ),
            {"k": key},
        ).all()
    return [int(r[0]) for r in rows]


def test_one_advisory_lease_at_a_time(schema_url: tuple[str, str]) -> None:
    url, schema = schema_url
    engine = make_engine(url)
    first, second = AdvisoryLease(engine), AdvisoryLease(engine)
    try:
        assert first.acquire() and first.held
        assert not second.acquire() and not second.held
        assert first.acquire()  # confirming keeps it
        assert len(_lock_holders(engine, schema)) == 1
        first.release()
        assert second.acquire()
        assert not first.acquire()
    finally:
        first.release()
        second.release()
        engine.dispose()


def test_leases_of_different_schemas_are_independent(schema_url: tuple[str, str]) -> None:
    assert lease_key(LEASE_NAME, "tenant_a") != lease_key(LEASE_NAME, "tenant_b")
    assert 0 < lease_key(LEASE_NAME, "public") < 2**63


# --- two real scheduler processes ----------------------------------------------------------


def _content_with_probe(tmp_path: Path) -> Path:
    """The shipped content with one survey only: a wave open now, to everyone who follows."""
    copy = tmp_path / "content"
    shutil.copytree(REPO_ROOT / "content", copy)
    for path in (copy / "surveys").glob("*.yaml"):
        path.unlink()
    now = datetime.now(ZoneInfo("Asia/Tokyo")).replace(tzinfo=None, microsecond=0)
    source = yaml.safe_load(
        (REPO_ROOT / "content/surveys/morioka_participation.yaml").read_text(encoding="utf-8")
    )
    source.update(
        id="replica_probe",
        indicators=[],
        schedule={
            "waves": [
                {
                    "key": "probe",
                    "opens": (now - timedelta(hours=1)).isoformat(),
                    "closes": (now + timedelta(days=1)).isoformat(),
                }
            ]
        },
    )
    (copy / "surveys" / "replica_probe.yaml").write_text(
        yaml.safe_dump(source, allow_unicode=True), encoding="utf-8"
    )
    return copy


def _start(url: str, content: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TSUNAGARI_CONTENT_DIR": str(content),
        "TSUNAGARI_SCHEDULER_POLL_SECONDS": "1",
        "TSUNAGARI_SCHEDULER_LEASE_RETRY_SECONDS": "1",
        "TSUNAGARI_AUTO_MIGRATE": "false",
        "LOG_FORMAT": "text",
        "LOG_LEVEL": "INFO",
        "LINE_CHANNEL_ACCESS_TOKEN": "",
        # Nothing on LINE's own hosts: that would make it production, whose secrets it lacks.
        "LINE_API_BASE_URL": "http://127.0.0.1:9",
        "LINE_DATA_API_BASE_URL": "http://127.0.0.1:9",
        "TSUNAGARI_ENV": "test",
    }
    handle = log.open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "scheduler"],
        env=env,
        cwd=REPO_ROOT,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _acquired(log: Path) -> bool:
    return "scheduler lease acquired" in log.read_text(encoding="utf-8", errors="replace")


def _invited(engine: Engine) -> Counter[int]:
    with session_scope(engine) as session:
        return Counter(int(r) for r in session.execute(select(SurveyInvite.resident_id)).scalars())


def _queued(engine: Engine) -> Counter[int]:
    with session_scope(engine) as session:
        rows = session.execute(
            select(OutboxRecipient.resident_id)
            .join(OutboxMessage, OutboxMessage.id == OutboxRecipient.message_id)  # type: ignore[arg-type]
            .where(OutboxMessage.kind == "survey_invite")  # type: ignore[arg-type]
        ).scalars()
        return Counter(int(r) for r in rows)


def test_two_scheduler_processes_share_one_lease_and_hand_over(
    schema_url: tuple[str, str], tmp_path: Path
) -> None:
    url, schema = schema_url
    engine = make_engine(url)
    content = _content_with_probe(tmp_path)
    first_residents = add_residents(engine, 3)
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    holder = _start(url, content, logs[0])
    other: subprocess.Popen[bytes] | None = None
    try:
        _wait_for(lambda: _acquired(logs[0]), "the first scheduler to take the lease")
        other = _start(url, content, logs[1])
        _wait_for(lambda: len(_invited(engine)) == 3, "the wave's invitations")
        # The second tried the lease before logging its start, and was refused.
        _wait_for(
            lambda: "scheduler started" in logs[1].read_text(encoding="utf-8"),
            "the second scheduler to start",
        )
        assert not _acquired(logs[1])
        assert len(_lock_holders(engine, schema)) == 1
        assert _invited(engine) == Counter(first_residents)  # each exactly once
        assert _queued(engine) == Counter(first_residents)

        holder.send_signal(signal.SIGKILL)  # no clean shutdown: the connection just drops
        holder.wait(timeout=10)
        (newcomer,) = add_residents(engine, 1, start=10)
        _wait_for(lambda: _acquired(logs[1]), "the second scheduler to take over")
        _wait_for(lambda: newcomer in _invited(engine), "the new holder to invite a newcomer")
        assert _invited(engine) == Counter([*first_residents, newcomer])
        assert _queued(engine) == Counter([*first_residents, newcomer])
        assert len(_lock_holders(engine, schema)) == 1

        other.send_signal(signal.SIGTERM)  # a clean stop releases the lease
        assert other.wait(timeout=10) == 0
        assert _lock_holders(engine, schema) == []
    finally:
        for process in (holder, other):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        engine.dispose()
