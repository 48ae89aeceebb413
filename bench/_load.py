"""Shared parts of the webhook benchmarks: signed LINE events, an open-loop sender, and the
LINE stand-in served in its own process with a small control API for the benchmark.

Run the stand-in on its own (bench_ingest.py does this for you)::

    python bench/_load.py --port 8090 --latency 0.08

Control routes (benchmark only, never part of LINE's API):
``POST /_bench/reset``, ``POST /_bench/tokens`` (``{"users": [...]}`` -> ``{"tokens": [...]}``)
and ``GET /_bench/requests`` (every recorded message request since the last reset).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

# LINE gives up on a webhook request after about 2 seconds (and may redeliver it later).
LINE_WEBHOOK_TIMEOUT_S = 2.0
TEXTS = ("こんにちは", "ありがとうございます", "よろしくお願いします", "おはようございます")


# --- events -------------------------------------------------------------------------------


def user_id(label: str) -> str:
    """A LINE-shaped user ID ("U" + 32 hex digits) derived from a label."""
    return "U" + hashlib.md5(label.encode()).hexdigest()  # noqa: S324 - an ID, not security


def text_event(user: str, reply_token: str, text: str) -> dict[str, Any]:
    """A one-to-one text message event as LINE's webhook sends it."""
    at = int(time.time() * 1000)
    return {
        "type": "message",
        "mode": "active",
        "timestamp": at,
        "source": {"type": "user", "userId": user},
        "webhookEventId": "01" + secrets.token_hex(12).upper(),
        "deliveryContext": {"isRedelivery": False},
        "replyToken": reply_token,
        "message": {
            "type": "text",
            "id": str(secrets.randbelow(9 * 10**17) + 10**17),
            "text": text,
            "quoteToken": secrets.token_urlsafe(24),
        },
    }


def signed_body(events: Sequence[dict[str, Any]], secret: str) -> tuple[bytes, str]:
    """The compact UTF-8 body LINE posts, and its X-Line-Signature."""
    body = json.dumps(
        {"destination": user_id("bench-bot"), "events": list(events)},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return body, base64.b64encode(digest).decode()


def users_for_run(run: str, count: int, regulars: int, regular_share: float) -> list[str]:
    """One user per event, except that ``regular_share`` of events come from a small pool
    of ``regulars`` users who write several times in the run (their events share a lane)."""
    rng = secrets.SystemRandom()
    pool = [user_id(f"{run}-regular-{i}") for i in range(regulars)]
    return [
        rng.choice(pool) if pool and rng.random() < regular_share else user_id(f"{run}-{i}")
        for i in range(count)
    ]


# --- the open-loop sender -------------------------------------------------------------------


@dataclass
class Sent:
    """One webhook request: when it was due, when it left, and how it was answered."""

    due: float
    started: float = 0.0
    finished: float = 0.0
    status: int | None = None  # None: timed out or failed
    error: str = ""

    @property
    def latency(self) -> float:
        """Seconds from sending to the acknowledgement."""
        return self.finished - self.started


async def open_loop(
    url: str,
    bodies: Sequence[tuple[bytes, str]],
    rate: float,
    timeout_s: float = LINE_WEBHOOK_TIMEOUT_S,
) -> list[Sent]:
    """Post each body at its scheduled instant (start + i/rate), whatever the answers.

    Timing uses time.monotonic, which on Linux is one clock for all processes, so the
    stand-in's recorded times can be compared with these.
    """
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    # The instrument must not pause: a full collection here (tens of ms, the run's bodies
    # are many objects) would be measured as the bot's latency. Collect before, not during.
    gc.collect()
    gc.disable()
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            start = time.monotonic() + 0.05
            results = [Sent(due=start + i / rate) for i in range(len(bodies))]
            tasks: list[asyncio.Task[None]] = []
            for i, (body, signature) in enumerate(bodies):
                delay = results[i].due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                task = asyncio.create_task(_post(session, url, body, signature, results[i]))
                tasks.append(task)
            await asyncio.gather(*tasks)
    finally:
        gc.enable()
    return results


async def _post(
    session: aiohttp.ClientSession, url: str, body: bytes, signature: str, out: Sent
) -> None:
    headers = {"Content-Type": "application/json; charset=utf-8", "X-Line-Signature": signature}
    out.started = time.monotonic()
    try:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            out.status = response.status
    except TimeoutError:
        out.error = "timeout"
    except aiohttp.ClientError as exc:
        out.error = type(exc).__name__
    out.finished = time.monotonic()


# --- the stand-in process -------------------------------------------------------------------


def standin_app(latency_s: float, access_token: str, token_ttl_s: float = 60.0) -> Any:
    """LINE's stand-in (spec-checked when the spec is present) plus the benchmark's routes."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    from bot.simulator.spec import SpecValidator, find_spec_dir
    from bot.simulator.standin import LineStandin

    spec_dir = find_spec_dir()
    spec = SpecValidator.load(spec_dir) if spec_dir else None
    line = LineStandin(
        spec=spec, access_token=access_token, latency_s=latency_s, reply_token_ttl_s=token_ttl_s
    )

    async def reset(request: Request) -> JSONResponse:
        line.reset()
        gc.collect()  # between runs, so that the last run's records are not collected during one
        return JSONResponse({"spec": spec is not None})

    async def tokens(request: Request) -> JSONResponse:
        users = (await request.json())["users"]
        return JSONResponse({"tokens": [line.issue_reply_token(u) for u in users]})

    async def recorded(request: Request) -> JSONResponse:
        rows = []
        for r in line.requests:
            body = r.json if isinstance(r.json, dict) else {}
            kinds = [m.get("type") for m in body.get("messages") or [] if isinstance(m, dict)]
            rows.append(
                {
                    "path": r.path,
                    "status": r.status,
                    "at": r.at,
                    "spec_errors": r.spec_errors,
                    "reply_token": body.get("replyToken"),
                    "to": body.get("to"),
                    "kinds": kinds,
                }
            )
        return JSONResponse({"requests": rows})

    routes = [
        Route("/_bench/reset", reset, methods=["POST"]),
        Route("/_bench/tokens", tokens, methods=["POST"]),
        Route("/_bench/requests", recorded, methods=["GET"]),
        Mount("/", app=line.app),
    ]
    return Starlette(routes=routes)


def main() -> None:
    """Serve the stand-in until terminated."""
    import uvicorn

    parser = argparse.ArgumentParser(description="LINE stand-in for the benchmarks")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.08)
    parser.add_argument("--token", default="bench-channel-token")
    # Tokens are issued before a run, not as each event is sent: a long run needs them to
    # live as long after issue as LINE's would after their event (about a minute).
    parser.add_argument("--reply-token-ttl", type=float, default=60.0)
    args = parser.parse_args()
    from bot.platform.heap import freeze

    app = standin_app(args.latency, args.token, args.reply_token_ttl)
    freeze()  # LINE's spec and the app: no later collection walks them
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
