"""A safety check's pushes under the delivery suite's fault (LINE failing 30 % of calls with
429 and 500): multicast batches of at most 500, each call with its batch's retry key, every
member reached exactly once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.db import session_scope
from bot.features.safety import checks
from bot.features.safety import messages as safety_messages
from bot.platform.delivery import outbox
from bot.platform.delivery.models import OutboxMessage
from bot.simulator.standin import LineStandin
from tests.builders import T0, add_members_bulk, make_area, uid
from tests.conftest import make_settings
from tests.delivery_support import (
    batch_rows,
    close_gateways,
    delivery_counts,
    message_calls,
    sender_for,
)
from tests.features.events.support import plain_notifier

MEMBERS = 1201  # three batches: 500, 500, 201


@pytest.fixture(autouse=True)
async def _close_gateways() -> AsyncIterator[None]:
    yield
    await close_gateways()


async def test_a_checks_pushes_go_in_keyed_batches_of_500_once_under_faults(
    engine: Any, standin: LineStandin, db_url: str
) -> None:
    association, _other = make_area(engine)
    add_members_bulk(engine, association, MEMBERS, "s")
    with session_scope(engine) as db:
        check = checks.draft(db, area_kind="association", area_id=association,
                             template="earthquake", visit_after=30, now=T0)  # fmt: skip
        sent = safety_messages.send_check(plain_notifier(), db, T0, int(check.id or 0))
        assert sent.sent and len(sent.resident_ids) == MEMBERS
    with Session(engine) as db:
        message = db.exec(
            select(OutboxMessage).where(OutboxMessage.key.startswith("safety:"))  # type: ignore[attr-defined]
        ).one()
    batches = batch_rows(engine, int(message.id or 0))
    assert {b.endpoint for b in batches} == {"multicast"} and len(batches) == 3
    assert all(b.retry_key for b in batches) and len({b.retry_key for b in batches}) == 3

    standin.set_failure_rate(0.3, statuses=(429, 500), seed=7)
    settings = make_settings(
        db_url,
        standin.url,  # type: ignore[attr-defined]
        line_max_attempts=3,
        delivery_retry_base_seconds=0,
        delivery_poll_seconds=0.02,
    )
    await sender_for(engine, standin, settings).run(until_idle=True)

    calls = message_calls(standin)
    assert {c.status for c in calls} >= {200}
    assert sum(1 for c in calls if c.status in (429, 500)) >= 1  # the faults really happened
    assert all(c.path.endswith("/multicast") and len(c.json["to"]) <= 500 for c in calls)
    sizes = sorted({c.retry_key: len(c.json["to"]) for c in calls}.values())
    assert sizes == [201, 500, 500]
    keys: dict[str, set[str | None]] = defaultdict(set)
    for call in calls:
        for user in call.json["to"]:
            keys[user].add(call.retry_key)
    # A batch retried after a fault keeps its key, so LINE can refuse a repeat.
    assert all(len(k) == 1 for k in keys.values())
    assert {k.pop() for k in keys.values()} == {b.retry_key for b in batches}
    assert delivery_counts(standin) == {uid(f"s{n}"): 1 for n in range(MEMBERS)}
    with session_scope(engine) as db:
        status = outbox.delivery_status(db, int(message.id or 0))
    assert status is not None and (status.status, status.recipients["sent"]) == ("sent", MEMBERS)
