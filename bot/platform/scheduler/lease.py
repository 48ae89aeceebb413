"""The scheduling lease: which process schedules when several run against one database.

PostgreSQL: a session-level advisory lock held on a dedicated connection. When the holder
dies its connection closes and the server drops the lock; the others retry every few seconds
and one of them takes over. Server-side TCP keepalives are set on the connection so a holder
whose machine vanished (no FIN sent) is noticed within about half a minute.

SQLite: one process only; the lease is always held and start-up says so.
"""

from __future__ import annotations

import hashlib
import logging
import os
from typing import Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

LEASE_NAME = "tsunagari.scheduler"
# Seconds; the server probes an idle lease connection and drops it after ~10 + 5 × 3 s.
KEEPALIVE = {"tcp_keepalives_idle": 10, "tcp_keepalives_interval": 5, "tcp_keepalives_count": 3}


class Lease(Protocol):
    """Held by at most one scheduler at a time."""

    @property
    def held(self) -> bool:
        """Whether this process holds the lease (as of the last `acquire`)."""
        ...

    def acquire(self) -> bool:
        """Take the lease if free, or confirm it is still ours; returns whether held."""
        ...

    def release(self) -> None:
        """Give the lease up (on shutdown), so another replica takes over at once."""
        ...


class LocalLease:
    """SQLite: a single process schedules; there is nobody to share with."""

    def __init__(self) -> None:
        self._announced = False

    @property
    def held(self) -> bool:
        """Always: nobody else may run."""
        return True

    def acquire(self) -> bool:
        """Held; the first call logs that this database allows one scheduler only."""
        if not self._announced:
            log.warning(
                "scheduler on SQLite: single-process; run exactly one scheduler "
                "(use PostgreSQL for several replicas)"
            )
            self._announced = True
        return True

    def release(self) -> None:
        """Nothing to release."""


class AdvisoryLease:
    """A PostgreSQL advisory lock on a connection of its own (never returned to a pool)."""

    def __init__(self, engine: Engine, name: str = LEASE_NAME) -> None:
        # NullPool: closing the connection really closes it, which is what frees the lock.
        self._engine = create_engine(engine.url, poolclass=NullPool)
        self._name = name
        self._conn: Connection | None = None
        self._cached_key = 0

    @property
    def held(self) -> bool:
        """Whether the lock was ours at the last check."""
        return self._conn is not None

    def acquire(self) -> bool:
        """Confirm the held lock's connection still answers, or try to take the lock."""
        if self._conn is not None:
            if self._still_alive(self._conn):
                return True
            log.error("scheduler lease lost: its database connection broke")
            self._drop()
        return self._try_take()

    def release(self) -> None:
        """Unlock and close; a replica waiting for the lease gets it at its next try."""
        if self._conn is None:
            return
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key()})
        except DBAPIError:
            pass  # closing the connection below frees the lock anyway
        self._drop()
        log.info("scheduler lease released", extra={"pid": os.getpid()})

    def _try_take(self) -> bool:
        try:
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except DBAPIError:
            log.warning("scheduler lease: database unreachable; will retry")
            return False
        try:
            self._set_keepalives(conn)
            key = self._key(conn)
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        except DBAPIError:
            conn.close()
            return False
        if not got:
            conn.close()
            return False
        self._conn = conn
        log.info("scheduler lease acquired", extra={"pid": os.getpid()})
        return True

    def _key(self, conn: Connection | None = None) -> int:
        """A 63-bit key per database schema, so test schemas and tenants don't collide."""
        if conn is not None:
            schema = conn.execute(text("SELECT current_schema()")).scalar() or "public"
            self._cached_key = lease_key(self._name, str(schema))
        return self._cached_key

    @staticmethod
    def _set_keepalives(conn: Connection) -> None:
        for setting, value in KEEPALIVE.items():
            try:
                conn.execute(text(f"SET {setting} = {int(value)}"))
            except DBAPIError:
                return  # e.g. a Unix socket, where TCP settings do not apply

    @staticmethod
    def _still_alive(conn: Connection) -> bool:
        try:
            conn.execute(text("SELECT 1"))
        except DBAPIError:
            return False
        return True

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except DBAPIError:
                pass


def lease_key(name: str, schema: str) -> int:
    """The advisory-lock key for a lease name in a schema (signed 64-bit, positive)."""
    digest = hashlib.blake2b(f"{name}:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def lease_for(engine: Engine) -> Lease:
    """The right lease for the database behind `engine`."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLease(engine)
    return LocalLease()
