"""POST /callback: verify the signature, store each event once, acknowledge, process later."""

from __future__ import annotations

import json
import logging
import time
from functools import partial
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.platform import inbox
from bot.platform.line.signature import is_valid
from bot.platform.observability import metrics

log = logging.getLogger(__name__)
router = APIRouter()


@router.post(
    "/callback",
    summary="LINE webhook",
    description="Receives LINE webhook events. Requires a valid X-Line-Signature.",
    responses={400: {"description": "missing or wrong signature, or malformed body"}},
)
async def callback(request: Request) -> JSONResponse:
    """Acknowledge fast: the handling happens after the answer, in the processor."""
    started = time.perf_counter()
    state = request.app.state
    body = await request.body()
    secret = state.settings.line_channel_secret.get_secret_value()
    if not is_valid(body, request.headers.get("x-line-signature"), secret):
        log.warning("webhook refused: bad signature")
        return _answer(400, {"message": "invalid signature"}, started)
    events = _events(body)
    if events is None:
        log.warning("webhook refused: malformed body", extra={"size": len(body)})
        return _answer(400, {"message": "malformed webhook body"}, started)
    events = _recent(events, state.settings.webhook_retention_days)
    if not events:
        return _answer(200, {}, started)
    try:
        store = partial(inbox.store_events, claim=state.processor.processes_events)
        fresh = await anyio.to_thread.run_sync(
            store,
            state.engine,
            events,
            state.clock.now(),
            limiter=state.ingest_limiter,
        )
    except inbox.MalformedEvent:
        log.warning("webhook refused: event without id or type")
        return _answer(400, {"message": "event without webhookEventId or type"}, started)
    for seq, lane_key in fresh:
        state.processor.submit(seq, lane_key)
    return _answer(200, {}, started)


def _events(body: bytes) -> list[dict[str, Any]] | None:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        # RecursionError: thousands of nested brackets, even under a valid signature.
        return None
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        return None
    return events


def _recent(events: list[dict[str, Any]], window_days: int) -> list[dict[str, Any]]:
    """The events younger than the dedupe window (the inbox forgets ids after it).

    An older one could be a captured, signed webhook replayed once its id was purged: it
    is logged and dropped, and LINE still gets 200 so it does not retry. Judged by the wall
    clock, as LINE stamps events with it (tests move the application's clock, not LINE's).
    """
    oldest_ms = (time.time() - window_days * 86400) * 1000
    kept = []
    for event in events:
        stamp = event.get("timestamp")
        if isinstance(stamp, int | float) and not isinstance(stamp, bool) and stamp < oldest_ms:
            metrics.events_stale.inc()
            log.warning(
                "webhook event refused: older than the dedupe window",
                extra={"event_type": str(event.get("type"))[:40], "timestamp": stamp},
            )
            continue
        kept.append(event)
    return kept


def _answer(status: int, body: dict[str, Any], started: float) -> JSONResponse:
    metrics.webhook_acks.labels(str(status)).inc()
    metrics.webhook_ack_seconds.observe(time.perf_counter() - started)
    return JSONResponse(body, status_code=status)
