"""FastAPI application factory: the webhook, health, metrics and the web parts, one port."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from bot.background import Background
from bot.clock import Clock, SystemClock
from bot.content import load_content
from bot.conversation.notifier import Notifier
from bot.conversation.registry import Registry
from bot.conversation.render import Renderer
from bot.conversation.runner import Runner
from bot.db import make_engine, ping
from bot.platform import migrate, web_guards, webhook
from bot.platform.line.gateway import LineGateway, gateway_from_settings
from bot.settings import Settings, get_settings, is_loopback_host
from bot.staff import StaffParts, mount_staff
from bot.wiring import FEATURES, build_registry, check_catalogs

log = logging.getLogger(__name__)


@dataclass
class Overrides:
    """Parts a test or the simulator substitutes; anything left None is built from settings."""

    gateway: LineGateway | None = None
    registry: Registry | None = None
    clock: Clock | None = None
    process_events: bool = True  # False: ingest only, events wait in the database
    web_only: bool = False  # True: a `tsunagari worker` process does everything but HTTP
    extra: dict[str, Any] = field(default_factory=dict)


def create_app(settings: Settings | None = None, overrides: Overrides | None = None) -> FastAPI:
    """Build the application; nothing starts until the lifespan runs."""
    settings = settings or get_settings()
    settings.require_safe_for_production()  # one line naming the setting, before anything runs
    overrides = overrides or Overrides()
    content = load_content(settings.content_dir)
    check_catalogs(content)  # consent, rich menus, surveys, volunteering: fail now, not later
    engine = make_engine(settings.database_url)
    registry = overrides.registry or build_registry()
    renderer = Renderer(content)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.auto_migrate:
            await run_in_threadpool(migrate.upgrade, settings.database_url)
        gateway = overrides.gateway or gateway_from_settings(
            settings, concurrency=settings.processor_lanes + settings.delivery_concurrency
        )
        app.state.gateway = gateway
        background = Background(
            engine=engine,
            settings=settings,
            content=content,
            runner=app.state.runner,
            notifier=app.state.notifier,
            gateway=gateway,
            clock=app.state.clock,
        )
        app.state.processor = background.processor
        app.state.loop = asyncio.get_running_loop()
        # Storing webhooks gets threads of its own so acknowledgements never queue
        # behind event processing.
        app.state.ingest_limiter = anyio.CapacityLimiter(32)
        inline = not overrides.web_only
        await background.start(
            process_events=inline and overrides.process_events and settings.process_events,
            scheduler=inline and settings.run_scheduler,
            sender=inline and settings.run_sender,
        )
        app.state.richmenu_linker = background.linker
        app.state.scheduler, app.state.sender = background.scheduler, background.sender
        try:
            yield
        finally:
            await background.stop()
            if overrides.gateway is None:
                await gateway.close()
            engine.dispose()

    # The interactive API docs are for development: in production nothing maps the API
    # for a visitor (staff tools get the schema from a development copy).
    docs = not settings.is_production
    app = FastAPI(
        title="Tsunagari",
        version="0.1.0",
        summary="LINE bot for neighbourhood associations: webhook, staff web and API",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    web_guards.guard(
        app,
        production=settings.is_production,
        max_body=settings.max_body_bytes,
        webhook_max_body=settings.webhook_max_body_bytes,
    )
    app.state.settings, app.state.content, app.state.engine = settings, content, engine
    app.state.registry, app.state.renderer = registry, renderer
    app.state.notifier = Notifier.over(renderer, settings)
    app.state.runner = Runner(registry, renderer)
    app.state.clock = overrides.clock or SystemClock()
    _include_routes(app)
    mount_staff(
        app,
        StaffParts(
            routers=[router for f in FEATURES for router in f.staff_routers],
            api_routers=[router for f in FEATURES for router in f.api_routers],
            nav=[item for f in FEATURES for item in f.nav],
            template_dirs=[f.templates for f in FEATURES if f.templates is not None],
        ),
    )
    if settings.simulator_enabled and not settings.is_production:
        # Imported here: the simulator (and the stand-in) exist only in demos and tests.
        from bot.simulator.routes import mount_simulator

        mount_simulator(app, overrides.extra.get("line_standin"))
    return app


def _include_routes(app: FastAPI) -> None:
    app.include_router(webhook.router)
    for feature in FEATURES:
        for router in feature.public_routers:
            app.include_router(router)

    @app.get("/healthz", summary="Liveness", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="Readiness: the database answers", tags=["health"])
    async def readyz(request: Request) -> JSONResponse:
        ok = await run_in_threadpool(ping, request.app.state.engine)
        return JSONResponse(
            {"database": "ok" if ok else "unreachable"}, status_code=200 if ok else 503
        )

    @app.get("/metrics", summary="Prometheus metrics", tags=["health"])
    async def prometheus_metrics(request: Request) -> Response:
        if not _may_read_metrics(request):
            return JSONResponse({"detail": "not found"}, status_code=404)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _may_read_metrics(request: Request) -> bool:
    """With TSUNAGARI_METRICS_TOKEN: its bearer token; without: only this machine, directly
    (a request through the proxy carries X-Forwarded-For and is refused)."""
    token = request.app.state.settings.metrics_token.get_secret_value()
    if token:
        sent = request.headers.get("authorization", "").encode()
        return hmac.compare_digest(sent, f"Bearer {token}".encode())
    direct = "x-forwarded-for" not in request.headers and "forwarded" not in request.headers
    return direct and request.client is not None and is_loopback_host(request.client.host)
