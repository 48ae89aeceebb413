"""Guards in front of every route, over real HTTP: body size limits (the webhook's judged
before reading), security headers, /metrics behind a token, and replayed webhooks refused."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot.core.models.residents import Resident
from bot.platform.inbox_models import WebhookEvent
from tests.conftest import SECRET, BotHarness
from tests.factories import body, follow_event, signed_headers

ALICE = "U" + "a" * 32
BOB = "U" + "b" * 32
LIMIT = 4096


def _count(bot: BotHarness, model: Any) -> int:
    engine: Engine = bot.app.state.engine
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def _chunks(total: int, size: int = 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"[" * min(size, total - sent)
        sent += size


def test_an_oversized_webhook_is_refused_before_it_is_read(bot_factory: Any) -> None:
    bot = bot_factory(webhook_max_body_bytes=LIMIT)
    # Declared too long: 413 from the length alone (the 300 MB of the finding never load).
    big = b"x" * (LIMIT + 1)
    answer = bot.post_raw(big, {"content-type": "application/json"})
    assert answer.status_code == 413
    assert answer.json() == {"detail": "request body too large"}
    # Chunked (no length declared): counted as it arrives, refused past the limit.
    streamed = bot.http.post("/callback", content=_chunks(LIMIT * 4))
    assert streamed.status_code == 413
    # A signed body over the limit is refused too: size comes before the signature.
    padded = json.loads(body(follow_event(ALICE)))
    padded["destination"] = "U" + "0" * LIMIT
    raw = json.dumps(padded).encode()
    assert bot.post_raw(raw, signed_headers(raw, SECRET)).status_code == 413
    assert _count(bot, WebhookEvent) == 0 and _count(bot, Resident) == 0
    assert bot.post(follow_event(BOB)).status_code == 200  # a normal one still passes


def test_every_other_route_has_a_body_limit_too(bot_factory: Any) -> None:
    bot = bot_factory(max_body_bytes=LIMIT * 2)
    form = {"login": "x", "password": "y" * (LIMIT * 3), "csrf_token": "z"}
    assert bot.http.post("/staff/login", data=form).status_code == 413
    streamed = bot.http.post(
        "/staff/logout",
        content=_chunks(LIMIT * 4),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert streamed.status_code == 413


def test_pages_carry_security_headers(bot: BotHarness) -> None:
    page = bot.http.get("/staff/login")
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in page.headers  # development: no HTTPS here
    assert bot.http.get("/healthz").headers["x-frame-options"] == "DENY"


def test_metrics_are_for_this_machine_or_the_token_holder(bot_factory: Any) -> None:
    local = bot_factory()
    assert "tsunagari_" in local.http.get("/metrics").text  # loopback, directly
    relayed = local.http.get("/metrics", headers={"X-Forwarded-For": "198.51.100.7"})
    assert relayed.status_code == 404  # through the proxy: someone outside
    token = "m3tr1cs-" + "f00d" * 8
    guarded = bot_factory(metrics_token=token)
    assert guarded.http.get("/metrics").status_code == 404
    assert guarded.http.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 404
    scrape = guarded.http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert scrape.status_code == 200 and "tsunagari_" in scrape.text


def test_a_replayed_webhook_older_than_the_dedupe_window_is_refused(bot: BotHarness) -> None:
    # The finding: a captured signed webhook could be replayed once its id was purged.
    days = bot.app.state.settings.webhook_retention_days
    old = follow_event(ALICE)
    old["timestamp"] = int((time.time() - (days * 86400 + 60)) * 1000)
    fresh = follow_event(BOB)
    answer = bot.post(old, fresh)
    assert answer.status_code == 200  # so LINE does not retry it
    bot.drain()
    with Session(bot.app.state.engine) as session:
        stored = session.exec(select(WebhookEvent.webhook_event_id)).all()
        residents = session.exec(select(Resident.line_user_id)).all()
    assert stored == [fresh["webhookEventId"]]
    assert residents == [BOB]
    assert bot.texts_to(ALICE) == []
    only_old = follow_event(ALICE)
    only_old["timestamp"] = old["timestamp"]
    assert bot.post(only_old).status_code == 200
    assert _count(bot, WebhookEvent) == 1
