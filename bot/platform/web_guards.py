"""ASGI guards in front of every route: a request body size limit and security headers.

Both are plain ASGI middleware (no BaseHTTPMiddleware): the size limit must act before a
route reads the body, and on a declared Content-Length before a byte of it is read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """The body grew past the limit while a route read it (413, the route's work abandoned).

    An HTTPException so that FastAPI's body parsing re-raises it as it is instead of
    turning it into a generic 400."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="request body too large")


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse bodies over `default` bytes (or `per_path[path]`): a declared Content-Length
    is judged before anything is read; a chunked body is counted as it arrives."""

    def __init__(self, app: ASGIApp, *, default: int, per_path: Mapping[str, int]) -> None:
        self.app, self.default, self.per_path = app, default, dict(per_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with a counting `receive`, or answer 413/400 at once."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.default)
        declared = _content_length(scope)
        if declared == -1:
            await _answer(send, 400, "malformed Content-Length")
            return
        if declared is not None and declared > limit:
            await _answer(send, 413, "request body too large")
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if not started:
                await _answer(send, 413, "request body too large")


def _content_length(scope: Scope) -> int | None:
    """The declared length, None when absent, -1 when it is not a number."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) < 19 else -1
    return None


class SecurityHeaders:
    """Headers every response carries: no framing, no MIME sniffing, no referrer leaving the
    site (links carry tokens), and HSTS in production."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        headers: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"content-security-policy", b"frame-ancestors 'none'; base-uri 'self'"),
            (b"referrer-policy", b"same-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if production:
            headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers a response does not set itself."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.headers if n not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


def guard(app: Any, *, production: bool, max_body: int, webhook_max_body: int) -> None:
    """Install both guards on a Starlette/FastAPI app (outermost: headers, then the limit)."""
    app.add_middleware(BodyLimit, default=max_body, per_path={"/callback": webhook_max_body})
    app.add_middleware(SecurityHeaders, production=production)
