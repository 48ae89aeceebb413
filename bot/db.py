"""Database engine and sessions: SQLite (WAL) embedded, PostgreSQL in production."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from time import monotonic
from typing import Any

from sqlalchemy import event, exc, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        _ensure_sqlite_folder(url)
        database = make_url(url).database or ""
        if database and ":memory:" not in database and "mode=memory" not in url:
            # Up to 32 webhook threads at once: with the default pool of 5 (+10), each surge
            # opened and closed connections, paying for the pragmas below every time.
            kwargs.setdefault("pool_size", 32)
            kwargs.setdefault("max_overflow", 16)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite begins a transaction only before a write, so a SAVEPOINT issued first
        # would open (and its RELEASE commit) a transaction of its own; begin one first.
        event.listen(engine, "savepoint", _sqlite_savepoint)
        return engine
    # Ingest has up to 32 threads: a smaller pool opened and closed connections in a surge.
    kwargs.setdefault("pool_size", 32)
    kwargs.setdefault("max_overflow", 40)
    engine = create_engine(url, **kwargs)
    event.listen(engine.pool, "checkin", _note_idle)
    event.listen(engine.pool, "checkout", partial(_ping_if_idle, engine))
    return engine


# A connection back in use within this many seconds is taken as alive. Pinging on every
# checkout (pool_pre_ping) was a round trip per webhook; after a database restart the
# first statement on a recently used connection fails instead, and SQLAlchemy then
# invalidates the whole pool, so callers that must not fail (the webhook) retry once.
IDLE_PING_SECONDS = 10.0


def _note_idle(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = monotonic()


def _ping_if_idle(engine: Engine, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    since = record.info.get("idle_since")
    if since is None or monotonic() - since < IDLE_PING_SECONDS:
        return
    try:
        engine.dialect.do_ping(dbapi_connection)
    except Exception as error:  # noqa: BLE001 - whatever the driver raises, take another
        # The pool discards this connection and checks out another (up to three times).
        raise exc.DisconnectionError("idle connection did not answer") from error


def _ensure_sqlite_folder(url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL keeps WAL durable across process crashes (only power loss can drop the tail).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_savepoint(connection: Any, name: str) -> None:
    dbapi_connection = connection.connection.dbapi_connection
    if not dbapi_connection.in_transaction:
        # IMMEDIATE takes the write lock now, so a concurrent writer waits (busy_timeout)
        # rather than failing when two readers try to upgrade at once.
        dbapi_connection.execute("BEGIN IMMEDIATE")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def ping(engine: Engine) -> bool:
    """True when the database answers a trivial query."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - readiness must answer, whatever the driver raises
        return False


def is_postgres(engine: Engine) -> bool:
    """True for PostgreSQL, where row locks and advisory locks exist."""
    return engine.dialect.name == "postgresql"
