"""Short garbage-collector pauses for the long-running processes (`serve`, `worker`).

Start-up leaves some 340,000 objects that live as long as the process: content catalogs,
LINE's spec, routes, ORM mappers, templates. A full collection walks all of them, about
140 ms on a small VM, and while it runs no webhook is acknowledged: that was the tail of
the acknowledgement latency. Frozen once start-up is over, they are skipped by every later
collection; what requests allocate is still collected as usual. Not for tests or the demo,
which build many apps in one process: frozen objects are never freed.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)


def freeze() -> None:
    """Collect what start-up threw away, then exempt the rest from future collections."""
    gc.collect()
    gc.freeze()
    log.debug("heap frozen", extra={"objects": gc.get_freeze_count()})


def freeze_after_startup(app: FastAPI) -> None:
    """Freeze once `app`'s lifespan start-up (migrations, clients, threads) has run."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        async with inner(app) as state:
            freeze()
            yield state

    app.router.lifespan_context = lifespan
