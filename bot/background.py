"""What runs behind the webhook: event processing, the delivery sender and the scheduler.

`tsunagari serve` runs these in a worker process of their own (`tsunagari worker`) so the
process that acknowledges LINE's webhooks never waits for a handler to give back the GIL;
tests and the demo run them inside the app (`inline`). Either way they are built here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

from bot.conversation.processor import Processor
from bot.conversation.richmenu import start_linker, stop_linker
from bot.platform.inbox_watch import InboxWatcher

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from bot.clock import Clock
    from bot.content import Content
    from bot.conversation.notifier import Notifier
    from bot.conversation.runner import Runner
    from bot.platform.delivery.sender import Sender
    from bot.platform.line.gateway import LineGateway
    from bot.platform.line.richmenu import Linker
    from bot.platform.scheduler.jobs import QuotaSource
    from bot.platform.scheduler.runner import SchedulerRunner
    from bot.settings import Settings

log = logging.getLogger(__name__)


class Background:
    """Starts and stops the parts a process runs besides HTTP, in a safe order."""

    def __init__(
        self,
        *,
        engine: Engine,
        settings: Settings,
        content: Content,
        runner: Runner,
        notifier: Notifier,
        gateway: LineGateway,
        clock: Clock,
    ) -> None:
        self.engine, self.settings, self.content = engine, settings, content
        self.notifier, self.gateway, self.clock = notifier, gateway, clock
        self.processor = Processor(
            engine=engine,
            settings=settings,
            content=content,
            runner=runner,
            notifier=notifier,
            gateway=gateway,
            clock=clock,
        )
        self.sender: Sender | None = None
        self.scheduler: SchedulerRunner | None = None
        self.linker: Linker | None = None
        self.watcher: InboxWatcher | None = None

    async def start(
        self,
        *,
        process_events: bool,
        scheduler: bool,
        sender: bool,
        watch_inbox: bool = False,
        take_over: bool = False,
    ) -> None:
        """Start what this process runs; `watch_inbox` when another process ingests for it;
        `take_over` when it replaces a worker that died (see `Processor.start`)."""
        await self.processor.start(workers=process_events, take_over=take_over)
        if process_events and watch_inbox:
            self.watcher = InboxWatcher(
                self.engine, self.processor.take_new, self.settings.inbox_poll_seconds
            )
            await self.watcher.start()
        self.linker = start_linker(self.settings, self.engine)
        if scheduler:
            from bot.scheduling import build_scheduler

            # The SDK gateway reads LINE's quota; stand-ins need not.
            reads_quota = hasattr(self.gateway, "get_quota")
            quota = cast("QuotaSource", self.gateway) if reads_quota else None
            self.scheduler = build_scheduler(
                engine=self.engine,
                settings=self.settings,
                content=self.content,
                notifier=self.notifier,
                quota_source=quota,
                clock=self.clock,
            )
            await self.scheduler.start()
        if sender:
            from bot.platform.delivery.sender import Sender

            self.sender = Sender(
                engine=self.engine, gateway=self.gateway, settings=self.settings, clock=self.clock
            )
            await self.sender.start()

    async def stop(self) -> None:
        """Stop in reverse order; unfinished work stays in the database for the next start."""
        if self.sender is not None:
            await self.sender.stop()
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self.watcher is not None:
            await self.watcher.stop()
        await self.processor.stop()
        if self.linker is not None:
            await stop_linker(self.linker)
