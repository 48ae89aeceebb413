"""Enqueueing into the delivery outbox: batches, retry keys, idempotency, one transaction."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot.db import is_postgres, session_scope
from bot.platform.delivery import outbox
from bot.platform.delivery.models import OutboxBatch, OutboxRecipient
from bot.platform.line.limits import LimitError
from tests.delivery_support import (
    NOTICE,
    T0,
    add_residents,
    batch_rows,
    enqueue_notice,
    message_count,
)


def _recipients(engine: Engine, message_id: int) -> list[OutboxRecipient]:
    with session_scope(engine) as session:
        return list(
            session.execute(
                select(OutboxRecipient).where(OutboxRecipient.message_id == message_id)  # type: ignore[arg-type]
            ).scalars()
        )


def test_1201_recipients_make_three_multicast_batches_with_their_own_keys(engine: Engine) -> None:
    ids = add_residents(engine, 1201)

    message_id = enqueue_notice(engine, ids)

    batches = batch_rows(engine, message_id)
    sizes = [sum(1 for r in _recipients(engine, message_id) if r.batch_id == b.id) for b in batches]
    assert sizes == [500, 500, 201]
    assert {b.endpoint for b in batches} == {"multicast"}
    keys = [b.retry_key for b in batches]
    assert len(set(keys)) == 3
    assert all(uuid.UUID(k).version == 4 for k in keys)


def test_one_recipient_goes_by_push(engine: Engine) -> None:
    [resident] = add_residents(engine, 1)

    message_id = enqueue_notice(engine, [resident])

    assert [b.endpoint for b in batch_rows(engine, message_id)] == ["push"]


def test_a_last_batch_of_one_is_still_a_multicast(engine: Engine) -> None:
    ids = add_residents(engine, 501)

    message_id = enqueue_notice(engine, ids)

    assert [b.endpoint for b in batch_rows(engine, message_id)] == ["multicast", "multicast"]


def test_same_key_enqueues_once(engine: Engine) -> None:
    ids = add_residents(engine, 3)

    first = enqueue_notice(engine, ids, key="notice:42")
    second = enqueue_notice(engine, ids + add_residents(engine, 2, start=100), key="notice:42")

    assert first == second
    assert message_count(engine) == 1
    assert len(_recipients(engine, first)) == 3


def test_a_resident_listed_twice_is_a_recipient_once(engine: Engine) -> None:
    ids = add_residents(engine, 600)

    message_id = enqueue_notice(engine, ids + ids[:10] + ids[550:])

    assert len(_recipients(engine, message_id)) == 600
    assert len(batch_rows(engine, message_id)) == 2


def test_unfollowed_residents_are_unreachable_and_take_no_batch_room(engine: Engine) -> None:
    active = add_residents(engine, 500)
    blocked = add_residents(engine, 7, start=1000, status="blocked")

    message_id = enqueue_notice(engine, blocked[:3] + active + blocked[3:])

    with session_scope(engine) as session:
        status = outbox.delivery_status(session, message_id)
    assert status is not None
    assert status.recipients == {"pending": 500, "sent": 0, "unreachable": 7, "failed": 0}
    assert status.batches["queued"] == 1
    assert status.total == 507


def test_nobody_reachable_means_nothing_to_send(engine: Engine) -> None:
    blocked = add_residents(engine, 2, status="blocked")

    message_id = enqueue_notice(engine, blocked)

    with session_scope(engine) as session:
        status = outbox.delivery_status(session, message_id)
    assert status is not None and status.status == "sent"
    assert batch_rows(engine, message_id) == []


def test_unknown_resident_ids_are_ignored(engine: Engine) -> None:
    ids = add_residents(engine, 2)

    message_id = enqueue_notice(engine, [*ids, 999_999])

    assert sorted(r.resident_id for r in _recipients(engine, message_id)) == ids


def test_rows_exist_only_if_the_cause_commits(engine: Engine) -> None:
    ids = add_residents(engine, 10)

    with pytest.raises(RuntimeError), session_scope(engine) as session:
        outbox.enqueue(
            session,
            key="notice:rolled-back",
            kind="notice",
            recipient_ids=ids,
            messages=NOTICE,
            now=T0,
        )
        raise RuntimeError("the action that caused the notice failed")

    assert message_count(engine) == 0
    with session_scope(engine) as session:
        assert session.execute(select(func.count()).select_from(OutboxBatch)).scalar_one() == 0


def test_not_before_and_urgency_are_stored_on_each_batch(engine: Engine) -> None:
    ids = add_residents(engine, 700)
    morning = T0 + timedelta(hours=11)

    message_id = enqueue_notice(engine, ids, urgent=True, not_before=morning)

    batches = batch_rows(engine, message_id)
    assert [b.due_at for b in batches] == [morning, morning]
    assert all(b.urgent for b in batches)


def test_messages_that_break_line_limits_are_refused_before_anything_is_written(
    engine: Engine,
) -> None:
    ids = add_residents(engine, 2)
    too_many = [{"type": "text", "text": str(n)} for n in range(6)]

    with pytest.raises(LimitError):
        enqueue_notice(engine, ids, messages=too_many)

    assert message_count(engine) == 0


def test_senders_are_woken_after_the_commit_not_before(engine: Engine) -> None:
    ids = add_residents(engine, 2)
    seen: list[int] = []

    def waker() -> None:
        seen.append(message_count(engine))

    outbox.register_waker(waker)
    try:
        enqueue_notice(engine, ids)
    finally:
        outbox.unregister_waker(waker)

    assert seen == [1]  # called once, and the committed message was already visible


def test_recipients_are_streamed_not_listed(engine: Engine) -> None:
    ids = add_residents(engine, 1200)
    handed_out: list[int] = []

    def lazily() -> object:
        for rid in ids:
            handed_out.append(rid)
            yield rid

    message_id = enqueue_notice(engine, lazily())  # type: ignore[arg-type]

    assert len(handed_out) == 1200
    assert len(batch_rows(engine, message_id)) == 3


def test_concurrent_enqueues_of_one_key_make_one_message(engine: Engine) -> None:
    if not is_postgres(engine):
        pytest.skip("SQLite serialises writers; the race needs two PostgreSQL transactions")
    ids = add_residents(engine, 5)
    results: list[int] = []
    first_inserted = threading.Event()

    def second_caller() -> None:
        first_inserted.wait(5)
        results.append(enqueue_notice(engine, ids, key="notice:race"))

    thread = threading.Thread(target=second_caller)
    thread.start()
    with session_scope(engine) as session:
        message = outbox.enqueue(
            session, key="notice:race", kind="notice", recipient_ids=ids, messages=NOTICE, now=T0
        )
        first_inserted.set()
        thread.join(0.5)  # the second caller now waits on our uncommitted key
        winner = int(message.id or 0)
    thread.join(10)

    assert results == [winner]
    assert message_count(engine) == 1
    assert len(_recipients(engine, winner)) == 5
