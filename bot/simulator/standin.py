"""A stand-in for LINE's Messaging API: answers like LINE and records every request.

Tests, benchmarks and the browser simulator point the bot's LINE client at it
(``Configuration(host=server.url)``). Every request is checked against LINE's
OpenAPI spec before anything changes, recorded as a ``RecordedRequest``, and
answered with LINE's status codes and error bodies. Messages that LINE would
deliver become ``Delivery`` records that tests read and the simulator polls.

The FastAPI routes are thin: the rules (rate limits, reply tokens, retry keys,
quota, failure injection, rich menus) live in small classes below, and all
shared state is guarded by one lock because the server runs in another thread.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import logging
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response

from bot.simulator.spec import SpecError, SpecValidator
from bot.simulator.standin_rules import (
    QUOTA_EXHAUSTED,
    RATE_LIMITED,
    FailurePlan,
    LineError,
    Quota,
    RateLimiter,
    ReplyTokens,
    RetryKeys,
    RichMenus,
    TokenBucket,
)

__all__ = [
    "QUOTA_EXHAUSTED",
    "RATE_LIMITED",
    "Delivery",
    "LineStandin",
    "RecordedRequest",
    "TokenBucket",
]

logger = logging.getLogger(__name__)

# LINE's documented per-channel limits, in requests per second. Reply is not
# limited; broadcast and narrowcast allow 60 requests an hour.
LINE_RATE_LIMITS: Mapping[str, float] = {
    "push": 2000.0,
    "multicast": 200.0,
    "broadcast": 60 / 3600,
    "narrowcast": 60 / 3600,
    "profile": 2000.0,
    "loading": 100.0,
}
AUTH_MISSING = (
    "Authorization header required. Must follow the scheme, 'Authorization: Bearer <ACCESS TOKEN>'"  # noqa: E501
)
AUTH_FAILED = (
    "Authentication failed. Confirm that the access token in the authorization header is valid."  # noqa: E501
)
DEFAULT_DISPLAY_NAME = "利用者"
_QUOTE_TARGET_TYPES = frozenset({"text", "textV2", "sticker", "image", "video"})


@dataclass(frozen=True)
class RecordedRequest:
    """One request the stand-in received, with how it was answered.

    ``headers`` are lower-cased, with the Authorization token redacted.
    """

    method: str
    path: str
    headers: dict[str, str]
    json: Any | None
    status: int
    spec_errors: list[str]
    at: float
    retry_key: str | None


@dataclass(frozen=True)
class Delivery:
    """One message delivered to one user; ``seq`` increases across all deliveries."""

    user_id: str
    message: dict[str, Any]
    via: str
    request_index: int
    at: float
    seq: int


@dataclass
class Call:
    """What a route handler needs to know about the request it serves."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    json: Any | None
    raw: bytes
    index: int
    at: float
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def retry_key(self) -> str | None:
        """The ``X-Line-Retry-Key`` header, if sent."""
        return self.headers.get("x-line-retry-key")


@dataclass
class Answer:
    """A route's result: status, body (JSON value or raw bytes) and headers."""

    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = "application/json"

    def to_response(self, request_id: str) -> Response:
        """The HTTP response, with LINE's ``x-line-request-id`` header."""
        content = self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()
        headers = {"x-line-request-id": request_id, **self.headers}
        return Response(content, self.status, headers=headers, media_type=self.media_type)


Handler = Callable[[Call], Answer]


class LineStandin:
    """LINE's Messaging API in memory, as a FastAPI app (``self.app``).

    Endpoint keys, for ``rate_limits`` and ``fail_next``: reply, push, multicast,
    broadcast, validate, quota, profile, loading, richmenu, richmenu_content,
    richmenu_link, richmenu_bulk, richmenu_alias. Failures are injected only
    into reply, push, multicast and broadcast.
    """

    def __init__(
        self,
        *,
        spec: SpecValidator | None,
        access_token: str | None = None,
        latency_s: float = 0.0,
        reply_token_ttl_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        rate_limits: Mapping[str, float] | None = None,
    ) -> None:
        self.spec, self.access_token, self.latency_s = spec, access_token, latency_s
        self.reply_token_ttl_s, self.clock, self.rate_limits = reply_token_ttl_s, clock, rate_limits
        self._lock = threading.RLock()
        self._listeners: list[Callable[[Delivery], None]] = []
        self._seq = 0  # survives reset() so that pollers "after seq N" never go back
        self.reset()
        self.app = self.build_app()

    # --- set-up and inspection, for tests and the simulator -------------------

    def reset(self) -> None:
        """Forget all requests, deliveries, users, tokens, keys, quota, failures and menus."""
        with self._lock:
            self._requests: list[RecordedRequest] = []
            self._deliveries: list[Delivery] = []
            self._profiles: dict[str, dict[str, str]] = {}
            self._followers: dict[str, None] = {}  # insertion-ordered set
            self._blocked: set[str] = set()
            self._limiter = RateLimiter(self.rate_limits, self.clock)
            self._reply_tokens = ReplyTokens(self.reply_token_ttl_s, self.clock)
            self._retry_keys = RetryKeys(self.clock)
            self._quota = Quota()
            self._failures = FailurePlan()
            self._menus = RichMenus()
            self._next_message_id = 500_000_000_000_000_000

    def issue_reply_token(self, user_id: str) -> str:
        """A reply token as if ``user_id`` had just sent an event."""
        with self._lock:
            self._followers[user_id] = None
            return self._reply_tokens.issue(user_id)

    def add_follower(self, user_id: str) -> None:
        """Make ``user_id`` a friend of the bot (a broadcast recipient)."""
        with self._lock:
            self._followers[user_id] = None

    def set_profile(self, user_id: str, display_name: str, language: str = "ja") -> None:
        """Set what GET /v2/bot/profile/{userId} returns."""
        with self._lock:
            self._followers[user_id] = None
            self._profiles[user_id] = {"displayName": display_name, "language": language}

    def block(self, user_id: str) -> None:
        """The user blocked the bot: nothing reaches them, yet LINE still answers 200."""
        with self._lock:
            self._blocked.add(user_id)

    def unblock(self, user_id: str) -> None:
        """The user unblocked the bot."""
        with self._lock:
            self._blocked.discard(user_id)

    def set_quota(self, limit: int | None, used: int = 0) -> None:
        """Set the monthly limit (None: no limit) and usage delivered outside the stand-in."""
        with self._lock:
            self._quota.limit, self._quota.offset = limit, used

    def fail_next(self, status: int, times: int = 1, endpoint: str | None = None) -> None:
        """Fail the next ``times`` message requests to ``endpoint`` (None: any) with ``status``."""
        with self._lock:
            self._failures.fail_next(status, times, endpoint)

    def set_failure_rate(
        self, rate: float, statuses: Iterable[int] = (429, 500), seed: int = 0
    ) -> None:
        """Fail push, multicast and reply requests at random, reproducibly from ``seed``."""
        with self._lock:
            self._failures.set_rate(rate, statuses, seed)

    def add_listener(self, callback: Callable[[Delivery], None]) -> None:
        """Call ``callback`` for each delivery, from the server thread, in order."""
        with self._lock:
            self._listeners.append(callback)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def deliveries(self) -> list[Delivery]:
        """A snapshot of every delivery, in ``seq`` order."""
        with self._lock:
            return list(self._deliveries)

    def deliveries_after(self, seq: int, user_id: str | None = None) -> list[Delivery]:
        """Deliveries with ``seq`` greater than ``seq``, optionally to one user."""
        with self._lock:
            start = bisect.bisect_right(self._deliveries, seq, key=lambda d: d.seq)
            tail = self._deliveries[start:]
        return [d for d in tail if user_id in (None, d.user_id)]

    def messages_to(self, user_id: str) -> list[dict[str, Any]]:
        """The LINE message objects delivered to ``user_id``, in order."""
        return [d.message for d in self.deliveries_after(0, user_id)]

    def spec_violations(self) -> list[RecordedRequest]:
        """Requests that did not conform to LINE's spec."""
        return [r for r in self.requests if r.spec_errors]

    def rich_menu_of(self, user_id: str) -> str | None:
        """The rich menu ``user_id`` sees: their own link, else the default."""
        with self._lock:
            return self._menus.links.get(user_id, self._menus.default)

    def rich_menu(self, menu_id: str) -> dict[str, Any] | None:
        """A rich menu as the bot created it (size, chat bar text, areas), or None."""
        with self._lock:
            menu = self._menus.menus.get(menu_id)
            return dict(menu) if menu is not None else None

    def rich_menu_image(self, menu_id: str) -> tuple[str, bytes] | None:
        """The uploaded image of a rich menu as (content type, bytes)."""
        with self._lock:
            return self._menus.images.get(menu_id)

    # --- HTTP plumbing ---------------------------------------------------------

    def build_app(self) -> FastAPI:
        """The FastAPI app serving LINE's endpoints (both api. and api-data. hosts)."""
        app = FastAPI(title="LINE stand-in", openapi_url=None, docs_url=None, redoc_url=None)
        for method, path, key, handler in self._routes():
            app.add_api_route(path, self._endpoint(key, handler), methods=[method])
        everything = ["GET", "POST", "PUT", "DELETE", "PATCH"]
        app.add_api_route("/{rest:path}", self._endpoint("unknown", _ok), methods=everything)
        return app

    def _routes(self) -> list[tuple[str, str, str, Handler]]:
        # Literal paths come before templated ones that would also match them.
        menu, alias, user = "/v2/bot/richmenu", "/v2/bot/richmenu/alias", "/v2/bot/user"
        return [
            ("POST", "/v2/bot/message/reply", "reply", self._reply),
            ("POST", "/v2/bot/message/push", "push", self._push),
            ("POST", "/v2/bot/message/multicast", "multicast", self._multicast),
            ("POST", "/v2/bot/message/broadcast", "broadcast", self._broadcast),
            ("POST", "/v2/bot/message/validate/{kind}", "validate", _ok),
            ("GET", "/v2/bot/message/quota", "quota", self._get_quota),
            ("GET", "/v2/bot/message/quota/consumption", "quota", self._get_consumption),
            ("GET", "/v2/bot/profile/{userId}", "profile", self._get_profile),
            ("POST", "/v2/bot/chat/loading/start", "loading", _accepted),
            ("POST", menu, "richmenu", self._create_menu),
            ("POST", f"{menu}/validate", "richmenu", _ok),
            ("GET", f"{menu}/list", "richmenu", self._list_menus),
            ("POST", f"{menu}/bulk/link", "richmenu_bulk", self._bulk_link),
            ("POST", f"{menu}/bulk/unlink", "richmenu_bulk", self._bulk_unlink),
            ("POST", alias, "richmenu_alias", self._create_alias),
            ("GET", f"{alias}/list", "richmenu_alias", self._list_aliases),
            ("GET", alias + "/{richMenuAliasId}", "richmenu_alias", self._get_alias),
            ("POST", alias + "/{richMenuAliasId}", "richmenu_alias", self._update_alias),
            ("DELETE", alias + "/{richMenuAliasId}", "richmenu_alias", self._delete_alias),
            ("GET", menu + "/{richMenuId}", "richmenu", self._get_menu),
            ("DELETE", menu + "/{richMenuId}", "richmenu", self._delete_menu),
            ("POST", menu + "/{richMenuId}/content", "richmenu_content", self._upload_image),
            ("GET", menu + "/{richMenuId}/content", "richmenu_content", self._download_image),
            ("POST", user + "/all/richmenu/{richMenuId}", "richmenu_link", self._set_default),
            ("GET", f"{user}/all/richmenu", "richmenu_link", self._get_default),
            ("DELETE", f"{user}/all/richmenu", "richmenu_link", self._clear_default),
            ("POST", user + "/{userId}/richmenu/{richMenuId}", "richmenu_link", self._link),
            ("GET", user + "/{userId}/richmenu", "richmenu_link", self._get_link),
            ("DELETE", user + "/{userId}/richmenu", "richmenu_link", self._unlink),
        ]

    def _endpoint(self, key: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await self._serve(request, key, handler)

        return endpoint

    async def _serve(self, request: Request, key: str, handler: Handler) -> Response:
        """Check, decide under the lock, record, then tell listeners about deliveries."""
        if self.latency_s > 0:
            await asyncio.sleep(self.latency_s)
        raw = await request.body()
        headers = {name.lower(): value for name, value in request.headers.items()}
        query = request.url.query
        path = request.url.path + (f"?{query}" if query else "")
        parsed, problems = self._parse_and_check(request.method, path, raw, headers)
        with self._lock:
            call = Call(
                request.method,
                path,
                dict(request.path_params),
                headers,
                parsed,
                raw,
                index=len(self._requests),
                at=self.clock(),
            )
            first_new = len(self._deliveries)
            answer = self._answer(call, key, handler, problems)
            new_deliveries = self._deliveries[first_new:]
            self._requests.append(
                RecordedRequest(
                    call.method,
                    call.path,
                    _redacted(headers),
                    parsed,
                    answer.status,
                    [str(p) for p in problems],
                    call.at,
                    call.retry_key,
                )
            )
            listeners = list(self._listeners)
        for delivery in new_deliveries:
            for callback in listeners:
                _notify(callback, delivery)
        return answer.to_response(call.request_id)

    def _parse_and_check(
        self, method: str, path: str, raw: bytes, headers: Mapping[str, str]
    ) -> tuple[Any | None, list[SpecError]]:
        """Parse a JSON body and check the request against the spec (no state touched)."""
        parsed: Any | None = None
        if raw and "json" in headers.get("content-type", ""):
            try:
                parsed = json.loads(raw)
            except ValueError:
                return None, [SpecError("", "the request body is not valid JSON")]
        problems = self.spec.check(method, path, parsed, headers) if self.spec else []
        return parsed, problems

    def _answer(self, call: Call, key: str, handler: Handler, problems: list[SpecError]) -> Answer:
        """LINE's order of refusals: route, authentication, request body, rate limit."""
        try:
            if key == "unknown":
                raise LineError(404, "Not found")
            self._authenticate(call.headers, problems)
            if problems:
                details = [{"message": p.message, "property": p.property} for p in problems]
                raise LineError(400, f"The request body has {len(problems)} error(s)", details)
            if not self._limiter.allow(key):
                raise LineError(429, RATE_LIMITED)
            return handler(call)
        except LineError as error:
            return Answer(error.status, error.body(), error.headers)

    def _authenticate(self, headers: Mapping[str, str], problems: list[SpecError]) -> None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if any(p.property == "Authorization" for p in problems) or (
            self.access_token is not None and scheme.lower() != "bearer"
        ):
            raise LineError(401, AUTH_MISSING)
        if self.access_token is not None and token.strip() != self.access_token:
            raise LineError(401, AUTH_FAILED)

    # --- messages ---------------------------------------------------------------

    def _reply(self, call: Call) -> Answer:
        messages = _messages_of(call.json)
        token = str(_object_of(call.json).get("replyToken", ""))
        self._inject_failure("reply")
        user_id = self._reply_tokens.user_for(token)
        self._reply_tokens.spend(token)
        reachable = [] if user_id in self._blocked else [user_id]
        return Answer(body={"sentMessages": self._deliver(reachable, messages, "reply", call)})

    def _push(self, call: Call) -> Answer:
        to = _object_of(call.json).get("to")
        return self._send(call, "push", [str(to)], echo_sent=True)

    def _multicast(self, call: Call) -> Answer:
        to = _object_of(call.json).get("to")
        return self._send(call, "multicast", [str(u) for u in to or []], echo_sent=False)

    def _broadcast(self, call: Call) -> Answer:
        return self._send(call, "broadcast", list(self._followers), echo_sent=False)

    def _send(self, call: Call, via: str, recipients: list[str], *, echo_sent: bool) -> Answer:
        """Push-type sending: retry key, injected failure, quota, then delivery."""
        messages = _messages_of(call.json)
        self._retry_keys.refuse_if_accepted(call.retry_key, with_sent_messages=echo_sent)
        self._inject_failure(via)
        reachable = [u for u in dict.fromkeys(recipients) if u not in self._blocked]
        self._quota.reserve(len(messages) * len(reachable))
        for user_id in recipients:
            self._followers[user_id] = None
        sent = self._deliver(reachable, messages, via, call)
        self._retry_keys.accept(call.retry_key, call.request_id, sent)
        return Answer(body={"sentMessages": sent} if echo_sent else {})

    def _inject_failure(self, endpoint: str) -> None:
        status = self._failures.draw(endpoint)
        if status is not None:
            message = RATE_LIMITED if status == 429 else "Injected failure"
            raise LineError(status, message)

    def _deliver(
        self, users: list[str], messages: list[dict[str, Any]], via: str, call: Call
    ) -> list[dict[str, str]]:
        """Record deliveries and return LINE's ``sentMessages`` (one per message)."""
        for user_id in users:
            for message in messages:
                self._seq += 1
                self._deliveries.append(
                    Delivery(user_id, message, via, call.index, call.at, self._seq)
                )
        sent = []
        for message in messages:
            self._next_message_id += 1
            entry = {"id": str(self._next_message_id)}
            if message.get("type") in _QUOTE_TARGET_TYPES:
                entry["quoteToken"] = uuid.uuid4().hex
            sent.append(entry)
        return sent

    def _get_quota(self, call: Call) -> Answer:
        limit = self._quota.limit
        body = {"type": "none"} if limit is None else {"type": "limited", "value": limit}
        return Answer(body=body)

    def _get_consumption(self, call: Call) -> Answer:
        return Answer(body={"totalUsage": self._quota.total_usage})

    def _get_profile(self, call: Call) -> Answer:
        user_id = call.params["userId"]
        if user_id in self._blocked:
            raise LineError(404, "Not found")
        default = {"displayName": DEFAULT_DISPLAY_NAME, "language": "ja"}
        return Answer(body={"userId": user_id, **self._profiles.get(user_id, default)})

    # --- rich menus -------------------------------------------------------------

    def _create_menu(self, call: Call) -> Answer:
        return Answer(body={"richMenuId": self._menus.create(_object_of(call.json))})

    def _list_menus(self, call: Call) -> Answer:
        return Answer(body={"richmenus": list(self._menus.menus.values())})

    def _get_menu(self, call: Call) -> Answer:
        return Answer(body=self._menus.get(call.params["richMenuId"]))

    def _delete_menu(self, call: Call) -> Answer:
        self._menus.delete(call.params["richMenuId"])
        return Answer()

    def _upload_image(self, call: Call) -> Answer:
        content_type = call.headers.get("content-type", "").split(";")[0].strip().lower()
        self._menus.upload(call.params["richMenuId"], content_type, call.raw)
        return Answer()

    def _download_image(self, call: Call) -> Answer:
        menu_id = call.params["richMenuId"]
        self._menus.get(menu_id)
        if menu_id not in self._menus.images:
            raise LineError(404, "Not found")
        content_type, data = self._menus.images[menu_id]
        return Answer(body=data, media_type=content_type)

    def _set_default(self, call: Call) -> Answer:
        self._menus.default = self._menus.usable(call.params["richMenuId"])
        return Answer()

    def _get_default(self, call: Call) -> Answer:
        if self._menus.default is None:
            raise LineError(404, "no default richmenu")
        return Answer(body={"richMenuId": self._menus.default})

    def _clear_default(self, call: Call) -> Answer:
        self._menus.default = None
        return Answer()

    def _link(self, call: Call) -> Answer:
        self._menus.links[call.params["userId"]] = self._menus.usable(call.params["richMenuId"])
        return Answer()

    def _get_link(self, call: Call) -> Answer:
        menu_id = self._menus.links.get(call.params["userId"])
        if menu_id is None:
            raise LineError(404, "the user has no richmenu")
        return Answer(body={"richMenuId": menu_id})

    def _unlink(self, call: Call) -> Answer:
        self._menus.links.pop(call.params["userId"], None)
        return Answer()

    def _bulk_link(self, call: Call) -> Answer:
        body = _object_of(call.json)
        menu_id = self._menus.usable(str(body.get("richMenuId")))
        for user_id in body.get("userIds") or []:
            self._menus.links[str(user_id)] = menu_id
        return Answer(202)

    def _bulk_unlink(self, call: Call) -> Answer:
        for user_id in _object_of(call.json).get("userIds") or []:
            self._menus.links.pop(str(user_id), None)
        return Answer(202)

    def _create_alias(self, call: Call) -> Answer:
        body = _object_of(call.json)
        alias_id, menu_id = str(body.get("richMenuAliasId")), str(body.get("richMenuId"))
        if alias_id in self._menus.aliases:
            raise LineError(400, "conflict richmenu alias id")
        self._menus.aliases[alias_id] = self._menus.usable(menu_id)
        return Answer()

    def _list_aliases(self, call: Call) -> Answer:
        return Answer(body={"aliases": [self._menus.alias(a) for a in self._menus.aliases]})

    def _get_alias(self, call: Call) -> Answer:
        return Answer(body=self._menus.alias(call.params["richMenuAliasId"]))

    def _update_alias(self, call: Call) -> Answer:
        alias_id = call.params["richMenuAliasId"]
        self._menus.alias(alias_id)
        menu_id = str(_object_of(call.json).get("richMenuId"))
        self._menus.aliases[alias_id] = self._menus.usable(menu_id)
        return Answer()

    def _delete_alias(self, call: Call) -> Answer:
        self._menus.alias(call.params["richMenuAliasId"])
        del self._menus.aliases[call.params["richMenuAliasId"]]
        return Answer()


def _ok(call: Call) -> Answer:
    return Answer()


def _accepted(call: Call) -> Answer:
    return Answer(202)


def _object_of(body: Any) -> dict[str, Any]:
    """The JSON object body; without a spec to check it first, refuse anything else."""
    if not isinstance(body, dict):
        raise LineError(400, "The request body must be a JSON object")
    return body


def _messages_of(body: Any) -> list[dict[str, Any]]:
    messages = _object_of(body).get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise LineError(
            400,
            "The request body has 1 error(s)",
            [{"message": "must be a list of message objects", "property": "messages"}],
        )
    return messages


def _redacted(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers as recorded: the access token never reaches transcripts or pages."""
    recorded = dict(headers)
    if "authorization" in recorded:
        scheme = recorded["authorization"].partition(" ")[0]
        recorded["authorization"] = f"{scheme} [redacted]"
    return recorded


def _notify(callback: Callable[[Delivery], None], delivery: Delivery) -> None:
    try:
        callback(delivery)
    except Exception as error:  # a broken listener must not break LINE's answer
        logger.warning("delivery listener failed: %s", type(error).__name__)
