"""Shared fixtures: a migrated database (SQLite always, PostgreSQL when configured), the LINE
stand-in over real HTTP, and the bot served by uvicorn pointing at it."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import Engine

from bot.app import Overrides, create_app
from bot.db import make_engine
from bot.platform import migrate
from bot.settings import Settings
from bot.simulator.server import StandinServer
from bot.simulator.spec import SPEC_SKIP_REASON, SpecValidator, find_spec_dir
from bot.simulator.standin import LineStandin
from tests.harness import SECRET, BotHarness

PG_URL = os.environ.get("TSUNAGARI_TEST_POSTGRES_URL", "")
DB_KINDS = ["sqlite", "postgres"] if PG_URL else ["sqlite"]
TOKEN = "test-channel-token"


def _pg_base_url() -> str:
    return (
        PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
        if PG_URL.startswith("postgresql://")
        else PG_URL
    )


def _libpq_url() -> str:
    return _pg_base_url().replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "tsunagari.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _pg_template() -> Iterator[str]:
    """One PostgreSQL database migrated once; each test gets a database cloned from it."""
    name = "tsunagari_tmpl_" + uuid.uuid4().hex[:8]
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        migrate.upgrade(_pg_url_for(name))
        yield name
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_url_for(database: str) -> str:
    base = _pg_base_url()
    prefix, _, rest = base.rpartition("/")
    query = "?" + rest.split("?", 1)[1] if "?" in rest else ""
    return f"{prefix}/{database}{query}"


def _pg_admin(sql: str) -> None:
    with psycopg.connect(_libpq_url(), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture(params=DB_KINDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated database: a copy of the SQLite template, or a cloned PostgreSQL one."""
    if request.param == "sqlite":
        path = tmp_path / "tsunagari.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("_pg_template")
    name = "tsunagari_t_" + uuid.uuid4().hex[:12]
    _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield _pg_url_for(name)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the test database."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def spec() -> SpecValidator | None:
    """LINE's published spec, or None when ../shared/line-openapi is absent.

    Cross-checked: every request the tests send is judged by both validators, so the fast
    one the benchmarks rely on cannot wave through what jsonschema would refuse.
    """
    spec_dir = find_spec_dir()
    return SpecValidator.load(spec_dir, crosscheck=True) if spec_dir else None


@pytest.fixture
def require_spec(spec: SpecValidator | None) -> SpecValidator:
    """Skip a test whose whole point is spec conformance when the spec is absent."""
    if spec is None:
        pytest.skip(SPEC_SKIP_REASON)
    return spec


@pytest.fixture
def standin(spec: SpecValidator | None) -> Iterator[LineStandin]:
    """The LINE stand-in over real HTTP; any request that breaks LINE's spec fails the test."""
    line = LineStandin(spec=spec, access_token=TOKEN)
    with StandinServer(line.app) as server:
        line.url = server.url  # type: ignore[attr-defined]
        yield line
    bad = line.spec_violations()
    assert not bad, f"requests that LINE would refuse: {[(r.path, r.spec_errors) for r in bad]}"


def make_settings(db_url: str, line_url: str, **overrides: Any) -> Settings:
    """Settings for a test: explicit, never read from a developer's .env."""
    values: dict[str, Any] = {
        "line_channel_secret": SECRET,
        "line_channel_access_token": TOKEN,
        "line_api_base_url": line_url,
        "line_data_api_base_url": line_url,
        "database_url": db_url,
        "line_backoff_base_s": 0.01,
        "line_timeout_s": 5.0,
        "run_scheduler": False,
        "run_sender": False,
        "environment": "test",
        "log_format": "text",
        # No quiet hours unless a test asks: results must not depend on the hour CI runs at.
        "quiet_hours_start": "00:00",
        "quiet_hours_end": "00:00",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def bot_factory(db_url: str, standin: LineStandin) -> Iterator[Any]:
    """Start bots (several, in turn, to simulate restarts) on the same database."""
    servers: list[StandinServer] = []
    harnesses: list[BotHarness] = []

    def start(overrides: Overrides | None = None, **settings_overrides: Any) -> BotHarness:
        settings = make_settings(db_url, standin.url, **settings_overrides)  # type: ignore[attr-defined]
        app = create_app(settings, overrides)
        server = StandinServer(app)
        server.start()
        servers.append(server)
        harness = BotHarness(app, server.url, standin)
        harnesses.append(harness)
        return harness

    yield start
    for harness in harnesses:
        harness.http.close()
    for server in reversed(servers):
        server.stop()


@pytest.fixture
def bot(bot_factory: Any) -> BotHarness:
    """One bot over real HTTP against the stand-in."""
    return bot_factory()  # type: ignore[no-any-return]
