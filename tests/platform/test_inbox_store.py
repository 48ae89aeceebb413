"""Storing webhook events: once each, all or nothing per body, a worker woken only for new
ones, and the webhook's store surviving a database restart."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, func, select

from bot import db
from bot.platform import inbox
from bot.platform.inbox_models import WebhookEvent
from tests.factories import follow_event

ALICE = "U" + "a" * 32
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _event(event_id: str) -> dict[str, object]:
    return {**follow_event(ALICE), "webhookEventId": event_id}


def _stored(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(WebhookEvent)).one())


def _libpq(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _restart_connections(engine: Engine) -> None:
    """What a database restart does to the pool: every server connection of it ends."""
    with psycopg.connect(_libpq(engine), autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def _postgres_only(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: NOTIFY and server connections that can be ended")


def test_each_event_is_stored_once_and_a_malformed_body_stores_nothing(engine: Engine) -> None:
    first = _event("01EV1")
    second = _event("01EV2")
    fresh = inbox.store_events(engine, [first, second], NOW)
    assert [seq for seq, _ in fresh] == sorted(seq for seq, _ in fresh)
    assert len(fresh) == 2
    assert inbox.store_events(engine, [second, first], NOW) == []

    broken = {"type": "message"}  # no webhookEventId
    with pytest.raises(inbox.MalformedEvent):
        inbox.store_events(engine, [_event("01EV3"), broken], NOW)
    assert _stored(engine) == 2


def test_an_ingest_only_store_wakes_workers_for_new_events_only(engine: Engine) -> None:
    _postgres_only(engine)
    with psycopg.connect(_libpq(engine), autocommit=True) as listener:
        listener.execute(f"LISTEN {inbox.NOTIFY_CHANNEL}")
        event = _event("01EVN")

        assert len(inbox.store_events(engine, [event], NOW, claim=False)) == 1
        assert len(list(listener.notifies(timeout=2.0, stop_after=1))) == 1

        assert inbox.store_events(engine, [event], NOW, claim=False) == []  # a replay
        assert list(listener.notifies(timeout=0.5)) == []

        assert len(inbox.store_events(engine, [event], NOW)) == 0  # claimed: nobody to wake
        assert list(listener.notifies(timeout=0.5)) == []
    with Session(engine) as session:
        row = session.exec(select(WebhookEvent)).one()
    assert row.claimed_at is None  # any processing replica may take it


def test_the_webhook_store_survives_a_database_restart(engine: Engine) -> None:
    _postgres_only(engine)
    inbox.store_events(engine, [_event("01EVA")], NOW)
    _restart_connections(engine)  # the pooled connection was used a moment ago: no ping

    fresh = inbox.store_events(engine, [_event("01EVB")], NOW)

    assert len(fresh) == 1
    assert _stored(engine) == 2


def test_a_connection_that_sat_idle_is_pinged_before_use(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgres_only(engine)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))

    _restart_connections(engine)
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)
    with engine.connect() as conn:  # the ping finds it dead; the pool opens another
        assert conn.execute(text("SELECT 1")).scalar() == 1

    _restart_connections(engine)
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 3600.0)
    with pytest.raises(DBAPIError) as raised, engine.connect() as conn:  # used just now
        conn.execute(text("SELECT 1"))
    assert raised.value.connection_invalidated
