"""Group the recording of call outcomes: one transaction for the calls that end together.

At 200 multicasts a second a transaction per call costs the sender more database time than
the call itself. Outcomes that arrive while a group is being written go into the next group.
Recording a little later is safe: a sender that dies before recording re-sends the batch with
its stored retry key, and LINE answers 409 for a message it already accepted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from bot.platform.delivery.store import Recorded, Report

MAX_GROUP = 64

Write = Callable[[Sequence[Report]], Awaitable[list[Recorded]]]


class GroupRecorder:
    """`record` waits until the report's group is written and returns what was recorded."""

    def __init__(self, write: Write) -> None:
        self._write = write
        self._waiting: list[tuple[Report, asyncio.Future[Recorded]]] = []
        self._task: asyncio.Task[None] | None = None

    async def record(self, report: Report) -> Recorded:
        """Queue `report` for the next group and wait for its result."""
        future: asyncio.Future[Recorded] = asyncio.get_running_loop().create_future()
        self._waiting.append((report, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="delivery-recorder")
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
            try:
                results = await self._write([report for report, _ in group])
            except Exception as exc:  # noqa: BLE001 - each waiting batch handles it
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(group, results, strict=True):
                if not future.done():
                    future.set_result(result)
