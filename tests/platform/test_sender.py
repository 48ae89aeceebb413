"""The sender against the LINE stand-in over HTTP: batching, keys, order, outcomes, limits."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from bot import cli
from bot.clock import FixedClock
from bot.core import residents
from bot.core.models.residents import Resident
from bot.db import session_scope
from bot.platform.delivery import outbox, store
from bot.platform.delivery.models import OutboxBatch
from bot.platform.delivery.ratelimit import EndpointLimits, TokenBucket
from bot.platform.delivery.singleton import SqliteSenderLock
from bot.settings import Settings
from bot.simulator.standin import LineStandin
from tests.conftest import make_settings
from tests.delivery_support import (
    T0,
    add_residents,
    batch_rows,
    close_gateways,
    delivery_counts,
    enqueue_notice,
    gateway_for,
    message_calls,
    sender_for,
    user_id,
)


@pytest.fixture(autouse=True)
async def _close_gateways() -> AsyncIterator[None]:
    yield
    await close_gateways()


@pytest.fixture
def settings(db_url: str, standin: LineStandin) -> Settings:
    return make_settings(
        db_url,
        standin.url,  # type: ignore[attr-defined]
        line_max_attempts=2,
        delivery_retry_base_seconds=0,
        delivery_max_attempts=3,
        delivery_poll_seconds=0.05,
        delivery_lease_seconds=60,
    )


def _status(engine: Engine, message_id: int) -> outbox.DeliveryStatus:
    with session_scope(engine) as session:
        status = outbox.delivery_status(session, message_id)
    assert status is not None
    return status


async def test_1201_recipients_take_exactly_three_multicasts_each_with_its_batch_key(
    engine: Engine, standin: LineStandin, settings: Settings
) -> None:
    ids = add_residents(engine, 1201)
    message_id = enqueue_notice(engine, ids)
    sender = sender_for(engine, standin, settings, clock=FixedClock(T0))

    handled = await sender.send_due()

    calls = message_calls(standin)
    assert handled == 3
    assert [c.path for c in calls] == ["/v2/bot/message/multicast"] * 3
    assert [len(c.json["to"]) for c in calls] == [500, 500, 201]
    assert [c.retry_key for c in calls] == [b.retry_key for b in batch_rows(engine, message_id)]
    assert delivery_counts(standin) == {user_id(n): 1 for n in range(1201)}
    status = _status(engine, message_id)
    assert status.status == "sent"
    assert status.recipients == {"pending": 0, "sent": 1201, "unreachable": 0, "failed": 0}


async def test_single_recipient_is_pushed_with_its_stored_key(
    engine: Engine, standin: LineStandin, settings: Settings
) -> None:
    [resident] = add_residents(engine, 1)
    message_id = enqueue_notice(engine, [resident], kind="reminder")

    await sender_for(engine, standin, settings, clock=FixedClock(T0)).send_due()

    [call] = message_calls(standin)
    assert call.path == "/v2/bot/message/push"
    assert call.json["to"] == user_id(0)
    assert call.retry_key == batch_rows(engine, message_id)[0].retry_key


async def test_urgent_notice_overtakes_queued_ordinary_ones(
    engine: Engine, standin: LineStandin, settings: Settings
) -> None:
    ids = add_residents(engine, 1000)
    ordinary = enqueue_notice(engine, ids, key="notice:ordinary")
    urgent = enqueue_notice(engine, ids[:3], key="notice:evacuate", urgent=True)

    await sender_for(engine, standin, settings, clock=FixedClock(T0)).send_due()

    keys = [c.retry_key for c in message_calls(standin)]
    ordinary_keys = [b.retry_key for b in batch_rows(engine, ordinary)]
    assert keys == [batch_rows(engine, urgent)[0].retry_key, *ordinary_keys]


async def test_not_before_holds_a_batch_until_its_time(
    engine: Engine, standin: LineStandin, settings: Settings
) -> None:
    ids = add_residents(engine, 2)
    clock = FixedClock(T0)
    enqueue_notice(engine, ids, not_before=T0 + timedelta(hours=1))
    sender = sender_for(engine, standin, settings, clock=clock)

    assert await sender.send_due() == 0
    clock.advance(timedelta(hours=1))
    assert await sender.send_due() == 1

    assert len(message_calls(standin)) == 1


async def test_failed_tries_are_bounded_and_the_reason_is_shown(
    engine: Engine, standin: LineStandin, settings: Settings
) -> None:
    ids = add_residents(engine, 3)
    message_id = enqueue_notice(engine, ids)
    standin.fail_next(500, times=100, endpoint="multicast")

    handled = await sender_for(engine, standin, settings, clock=FixedClock(T0)).send_due()

    # 3 sender tries (delivery_max_attempts) × 2 gateway attempts (line_max_attempts)
    assert handled == 3
    assert len(message_calls(standin)) == 6
    assert len({c.retry_key for c in message_calls(standin)}) == 1
    status = _status(engine, message_id)
    assert status.status == "failed"
    assert status.error is not None and "gave up after 3 failed tries" in status.error
    assert "500" in status.error
    assert status.recipients["failed"] == 3
    assert delivery_counts(standin) == {}


async def test_a_refused_request_fails_at_once(
    engine: Engine, standin: LineStandin, settings: Settings
) -> None:
    ids = add_residents(engine, 2)
    message_id = enqueue_notice(engine, ids)
    standin.fail_next(403, times=1, endpoint="multicast")

    await sender_for(engine, standin, settings, clock=FixedClock(T0)).send_due()

    assert len(message_calls(standin)) == 1
    status = _status(engine, message_id)
    assert status.status == "failed"
    assert status.error is not None and status.error.startswith("LINE answered 403")


async def test_a_batch_whose_sender_died_is_resent_with_the_same_key_and_counts_once(
    engine: Engine, standin: LineStandin, settings: Settings
) -> None:
    ids = add_residents(engine, 4)
    message_id = enqueue_notice(engine, ids)
    clock = FixedClock(T0)
    # A sender claims the batch, LINE accepts its call, and it dies before recording.
    [(claim, _)] = store.claim_due(engine, clock.now(), limit=1)
    dead = gateway_for(standin, settings)
    await dead.multicast([user_id(n) for n in range(4)], claim.messages, claim.retry_key)
    await dead.close()

    sender = sender_for(engine, standin, settings, clock=clock)
    assert await sender.send_due() == 0  # still within the dead sender's lease
    clock.advance(timedelta(seconds=61))
    await sender._upkeep(startup=False)  # noqa: SLF001 - the periodic lease sweep, run now
    assert await sender.send_due() == 1

    assert [(c.retry_key, c.status) for c in message_calls(standin)] == [
        (claim.retry_key, 200),
        (claim.retry_key, 409),
    ]
    assert delivery_counts(standin) == {user_id(n): 1 for n in range(4)}
    assert _status(engine, message_id).recipients["sent"] == 4


async def test_an_outcome_from_a_sender_whose_claim_was_taken_over_is_ignored(
    engine: Engine,
) -> None:
    ids = add_residents(engine, 2)
    enqueue_notice(engine, ids)
    [(old, audience)] = store.claim_due(engine, T0, limit=1)
    store.requeue_expired(engine, T0 + timedelta(minutes=5), timedelta(minutes=1))
    [(new, _)] = store.claim_due(engine, T0 + timedelta(minutes=5), limit=1)
    assert new.batch_id == old.batch_id and new.token != old.token
    failed = store.Outcome(delivered=False, final=True, status=400, detail="stale")

    late = store.record(engine, old, audience, failed, T0, max_failures=3, retry_delay=0)
    current = store.record(
        engine, new, audience, store.Outcome(True, True, 200), T0, max_failures=3, retry_delay=0
    )

    assert (late.applied, current.applied, current.sent) == (False, True, 2)


async def test_outcomes_recorded_together_each_keep_their_guard_and_finish_the_message(
    engine: Engine,
) -> None:
    # 1,001 recipients: three batches, recorded in one transaction as the sender groups them.
    message_id = enqueue_notice(engine, add_residents(engine, 1001))
    claims = store.claim_due(engine, T0, limit=3)
    assert len(claims) == 3
    (first, first_to), (second, second_to), (third, third_to) = claims
    stale = store.Claim(**{**second.__dict__, "token": "someone-else"})
    sent = store.Outcome(True, True, 200)

    results = store.record_many(
        engine,
        [
            store.Report(first, first_to, sent),
            store.Report(stale, second_to, sent),
            store.Report(third, third_to, sent),
        ],
        T0,
        max_failures=3,
    )

    assert [(r.applied, r.sent) for r in results] == [(True, 500), (False, 0), (True, 1)]
    status = _status(engine, message_id)
    assert status.status == "queued"  # the second batch is still out with its holder
    assert status.recipients["sent"] == 501 and status.recipients["pending"] == 500
    store.record_many(engine, [store.Report(second, second_to, sent)], T0, max_failures=3)
    assert (_status(engine, message_id).status, _status(engine, message_id).recipients["sent"]) == (
        "sent",
        1001,
    )


async def test_a_batch_that_keeps_killing_its_sender_is_abandoned_with_a_reason(
    engine: Engine, standin: LineStandin, settings: Settings
) -> None:
    ids = add_residents(engine, 2)
    message_id = enqueue_notice(engine, ids)
    with engine.begin() as conn:  # claimed 3 × max_attempts times, never recorded
        conn.execute(update(OutboxBatch).values(claims=9))  # type: ignore[arg-type]

    await sender_for(engine, standin, settings, clock=FixedClock(T0)).send_due()

    assert message_calls(standin) == []
    status = _status(engine, message_id)
    assert status.status == "failed"
    assert status.error is not None and "abandoned: claimed 9 times" in status.error
    assert status.recipients["failed"] == 2


def test_the_sweep_finishes_a_message_two_recorders_both_left_open(engine: Engine) -> None:
    ids = add_residents(engine, 600)
    message_id = enqueue_notice(engine, ids)
    with engine.begin() as conn:  # both batches ended, yet neither recorder closed the message
        conn.execute(update(OutboxBatch).values(status="sent"))  # type: ignore[arg-type]
    assert _status(engine, message_id).status == "queued"

    assert store.sweep_finished(engine, T0) == 1

    assert _status(engine, message_id).status == "sent"
    assert store.sweep_finished(engine, T0) == 0


def test_sender_command_refuses_to_start_without_a_channel_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer .env
    monkeypatch.delenv("LINE_CHANNEL_ACCESS_TOKEN", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")

    assert cli.main(["sender", "--until-idle"]) == 2
    assert "LINE_CHANNEL_ACCESS_TOKEN" in capsys.readouterr().err


async def test_enqueue_wakes_a_running_sender_without_waiting_for_a_poll(
    engine: Engine, standin: LineStandin, settings: Settings
) -> None:
    ids = add_residents(engine, 2)
    slow_poll = settings.model_copy(update={"delivery_poll_seconds": 3600})
    sender = sender_for(engine, standin, slow_poll)
    await sender.start()
    try:
        await _until(lambda: sender._loop is not None)  # noqa: SLF001
        await asyncio.to_thread(enqueue_notice, engine, ids)
        await _until(lambda: len(standin.deliveries) == 2)
    finally:
        await sender.stop()
    assert delivery_counts(standin) == {user_id(0): 1, user_id(1): 1}


def test_the_app_runs_a_sender_woken_by_enqueue_and_counts_in_metrics(
    bot_factory: Any, engine: Engine, standin: LineStandin
) -> None:
    bot = bot_factory(run_sender=True, delivery_poll_seconds=3600)
    ids = add_residents(engine, 3)
    before = _sample("tsunagari_deliveries_total", kind="app_notice", outcome="sent")

    enqueue_notice(engine, ids, kind="app_notice")

    deadline = time.monotonic() + 10  # the sender polls hourly here: only the wake-up is quick
    while time.monotonic() < deadline and (
        _sample("tsunagari_deliveries_total", kind="app_notice", outcome="sent") < before + 3
    ):
        time.sleep(0.01)
    assert delivery_counts(standin) == {user_id(n): 1 for n in range(3)}
    metrics = bot.http.get("/metrics").text
    line = f'tsunagari_deliveries_total{{kind="app_notice",outcome="sent"}} {before + 3}'
    assert line in metrics


async def test_the_loop_survives_a_database_error_and_carries_on(
    engine: Engine, standin: LineStandin, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = add_residents(engine, 3)
    enqueue_notice(engine, ids)
    real_claim, failures = store.claim_due, [OperationalError("SELECT", {}, Exception("gone"))]

    def flaky_claim(*args: Any) -> Any:
        if failures:
            raise failures.pop()
        return real_claim(*args)

    monkeypatch.setattr(store, "claim_due", flaky_claim)

    await sender_for(engine, standin, settings).run(until_idle=True)

    assert failures == []
    assert delivery_counts(standin) == {user_id(n): 1 for n in range(3)}


async def test_run_until_idle_retries_until_done(
    engine: Engine, standin: LineStandin, settings: Settings
) -> None:
    ids = add_residents(engine, 1500)
    message_id = enqueue_notice(engine, ids)
    standin.fail_next(500, times=3, endpoint="multicast")

    await sender_for(engine, standin, settings).run(until_idle=True)

    assert delivery_counts(standin) == {user_id(n): 1 for n in range(1500)}
    assert _status(engine, message_id).status == "sent"


async def test_metrics_count_deliveries_by_kind_and_outcome(
    engine: Engine, standin: LineStandin, settings: Settings
) -> None:
    ids = add_residents(engine, 3)
    before = _sample("tsunagari_deliveries_total", kind="survey", outcome="sent")
    message_id = enqueue_notice(engine, ids, kind="survey")
    with session_scope(engine) as session:  # one recipient unfollows before the send
        residents.mark_unfollowed(session, session.get_one(Resident, ids[0]), T0)

    await sender_for(engine, standin, settings, clock=FixedClock(T0)).send_due()

    assert _sample("tsunagari_deliveries_total", kind="survey", outcome="sent") == before + 2
    assert _sample("tsunagari_deliveries_total", kind="survey", outcome="unreachable") >= 1
    assert _status(engine, message_id).recipients["unreachable"] == 1


async def test_logs_are_json_ready_and_name_no_line_user(
    engine: Engine, standin: LineStandin, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    ids = add_residents(engine, 3)
    enqueue_notice(engine, ids)
    standin.fail_next(500, times=2, endpoint="multicast")
    caplog.set_level(logging.DEBUG, logger="bot")

    await sender_for(engine, standin, settings, clock=FixedClock(T0)).send_due()

    records = [r for r in caplog.records if r.name.startswith("bot.platform.delivery")]
    assert any(r.getMessage() == "delivery batch sent" for r in records)
    dumped = json.dumps(
        [{**r.__dict__, "args": None, "exc_info": None} for r in records], default=str
    )
    assert not any(user_id(n) in dumped for n in range(3))


async def test_token_bucket_paces_calls_at_the_configured_rate() -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(200.0, burst=1, clock=lambda: now[0], sleep=sleep)
    waits = [await bucket.acquire() for _ in range(201)]

    assert waits[0] == 0
    assert sum(waits) == pytest.approx(1.0)
    assert now[0] - 100.0 == pytest.approx(1.0)
    assert max(slept) == pytest.approx(1 / 200)


async def test_token_bucket_allows_its_burst_then_paces() -> None:
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    bucket = TokenBucket(10.0, burst=5, clock=lambda: now[0], sleep=sleep)
    waits = [await bucket.acquire() for _ in range(7)]

    assert waits[:5] == [0, 0, 0, 0, 0]
    assert waits[5:] == [pytest.approx(0.1), pytest.approx(0.1)]


async def test_endpoint_limits_pass_unlisted_endpoints_freely() -> None:
    limits = EndpointLimits.from_rates({"multicast": 0.001})
    assert await limits.acquire("multicast") == 0  # the first token is in the bucket
    assert await limits.acquire("push") == 0


def test_only_one_sender_holds_a_sqlite_database(tmp_path: Path) -> None:
    path = str(tmp_path / "x.db")
    first, second = SqliteSenderLock(path), SqliteSenderLock(path)

    assert first.try_acquire()
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def _until(condition: object, timeout: float = 10.0) -> None:
    """Wait for a condition the test cannot be told about directly (bounded, not timed)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
