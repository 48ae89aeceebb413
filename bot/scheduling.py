"""The scheduler as the bot runs it: every feature's jobs, with one `JobDeps`.

Composition, like `bot/app.py`: the platform's runner knows nothing of features; this module
hands it the jobs from `bot.features.FEATURES` and the deps the jobs share.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from sqlalchemy.engine import Engine

from bot.clock import Clock
from bot.content import Content
from bot.conversation.jobs import JobDeps
from bot.conversation.notifier import Notifier
from bot.platform.scheduler.jobs import QuotaSource
from bot.platform.scheduler.lease import Lease
from bot.platform.scheduler.runner import SchedulerRunner, build_runner
from bot.settings import Settings
from bot.wiring import all_jobs, check_catalogs, purges

log = logging.getLogger(__name__)


def build_scheduler(
    *,
    engine: Engine,
    settings: Settings,
    content: Content,
    notifier: Notifier | None = None,
    quota_source: QuotaSource | None = None,
    clock: Clock | None = None,
    lease: Lease | None = None,
) -> SchedulerRunner:
    """The runner with every feature's jobs; a survey file LINE could not show fails here."""
    deps = JobDeps(
        settings=settings,
        notifier=notifier or Notifier.build(content, settings),
        purges=tuple(purges()),
    )
    if quota_source is None:
        log.info("scheduler: no LINE quota source; the quota check is off")
    return build_runner(
        engine=engine,
        settings=settings,
        deps=deps,
        jobs=all_jobs(settings, quota_source),
        clock=clock,
        lease=lease,
    )


def run_standalone(settings: Settings) -> int:
    """`tsunagari scheduler`: schedule until SIGTERM/SIGINT, then release the lease."""
    return asyncio.run(_serve_forever(settings))


async def _serve_forever(settings: Settings) -> int:
    from bot.content import load_content
    from bot.db import make_engine
    from bot.platform import migrate
    from bot.platform.line.gateway import gateway_from_settings

    content = load_content(settings.content_dir)
    check_catalogs(content)
    if settings.auto_migrate:
        await asyncio.to_thread(migrate.upgrade, settings.database_url)
    engine = make_engine(settings.database_url)
    token = settings.line_channel_access_token.get_secret_value()
    gateway = gateway_from_settings(settings, concurrency=1) if token else None
    runner = build_scheduler(
        engine=engine, settings=settings, content=content, quota_source=gateway
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await runner.start()
    try:
        await stop.wait()
    finally:
        await runner.stop()
        if gateway is not None:
            await gateway.close()
        engine.dispose()
    return 0
