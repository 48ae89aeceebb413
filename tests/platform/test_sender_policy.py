"""The sender asks the send policy before calling LINE: quiet hours defer, urgent goes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from bot.clock import FixedClock
from bot.settings import Settings
from bot.simulator.standin import LineStandin
from tests.conftest import make_settings
from tests.delivery_support import (
    add_residents,
    batch_rows,
    close_gateways,
    delivery_counts,
    enqueue_notice,
    sender_for,
    user_id,
)

NIGHT = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)  # 22:00 in Tokyo
MORNING = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)  # 08:00 the next day in Tokyo


@pytest.fixture(autouse=True)
async def _close() -> AsyncIterator[None]:
    yield
    await close_gateways()


@pytest.fixture
def settings(db_url: str, standin: LineStandin) -> Settings:
    return make_settings(
        db_url,
        standin.url,
        quiet_hours_start="21:00",  # type: ignore[attr-defined]
        quiet_hours_end="08:00",
        quiet_spread_minutes=30,
    )


async def test_quiet_hours_defer_ordinary_batches_to_the_morning(
    engine: Engine, standin: LineStandin, settings: Settings
) -> None:
    ids = add_residents(engine, 3)
    message_id = enqueue_notice(engine, ids, now=NIGHT)
    clock = FixedClock(NIGHT)
    sender = sender_for(engine, standin, settings, clock=clock)
    await sender.send_due()
    assert standin.deliveries == []
    [batch] = batch_rows(engine, message_id)
    assert batch.status == "queued" and batch.failures == 0
    assert MORNING <= batch.due_at <= MORNING + timedelta(minutes=30)
    clock.set(batch.due_at)
    await sender.send_due()
    assert delivery_counts(standin) == {user_id(n): 1 for n in range(3)}


async def test_urgent_batches_go_out_at_night(
    engine: Engine, standin: LineStandin, settings: Settings
) -> None:
    ids = add_residents(engine, 2)
    enqueue_notice(engine, ids, now=NIGHT, urgent=True, key="disaster:1")
    await sender_for(engine, standin, settings, clock=FixedClock(NIGHT)).send_due()
    assert delivery_counts(standin) == {user_id(n): 1 for n in range(2)}
