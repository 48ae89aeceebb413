"""The worker's inbox watcher: it takes pending events when woken, and lets them gather
longer while the inbox is busy (so a surge is handled in large batches)."""

from __future__ import annotations

import asyncio

import pytest

from bot.db import make_engine
from bot.platform import inbox_watch
from bot.platform.inbox_watch import InboxWatcher, gather_seconds


def test_ordinary_traffic_waits_one_poll_and_a_surge_up_to_four() -> None:
    assert gather_seconds(0, 0.05) == 0.05
    assert gather_seconds(4, 0.05) == 0.05  # 80 events a second: still ordinary
    assert gather_seconds(8, 0.05) == pytest.approx(0.10)
    assert gather_seconds(16, 0.05) == pytest.approx(0.20)
    assert gather_seconds(500, 0.05) == pytest.approx(0.20)  # never longer


async def test_each_gather_follows_what_the_last_take_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    takes = iter([40, 12, 0, 0])
    asked: list[int] = []
    done = asyncio.Event()

    def recorded_gather(last_found: int, poll_s: float) -> float:
        asked.append(last_found)
        return 0.001

    async def take() -> int:
        found = next(takes, 0)
        if len(asked) >= 4:
            done.set()
        return found

    monkeypatch.setattr(inbox_watch, "gather_seconds", recorded_gather)
    # SQLite's watcher wakes itself every poll (PostgreSQL's waits for NOTIFY: see
    # test_inbox_store.py); the gathering is the same for both.
    engine = make_engine("sqlite://")
    watcher = InboxWatcher(engine, take, poll_s=0.001)
    await watcher.start()
    try:
        await asyncio.wait_for(done.wait(), 10)
    finally:
        await watcher.stop()
    assert asked[:4] == [0, 40, 12, 0]
