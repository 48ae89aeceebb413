"""The rules the LINE stand-in enforces, as small classes: rate limits, reply tokens,
retry keys, quota, injected failures and rich menus. Callers hold the stand-in's lock."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from PIL import Image, UnidentifiedImageError

RATE_LIMITED = "The API rate limit has been exceeded. Try again later."
QUOTA_EXHAUSTED = "You have reached your monthly limit."
RETRY_KEY_ACCEPTED = "The retry key is already accepted"
INVALID_REPLY_TOKEN = "Invalid reply token"
RETRY_KEY_TTL_S = 24 * 3600.0
_IMAGE_TYPES = frozenset({"image/png", "image/jpeg"})
_RICH_MENU_IMAGE_MAX_BYTES = 1024 * 1024


class LineError(Exception):
    """A refusal LINE would send, as status and ``{"message", "details"}`` body."""

    def __init__(self, status: int, message: str, details: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.status, self.message, self.details = status, message, details or []
        self.headers: dict[str, str] = {}
        self.extra: dict[str, Any] = {}

    def body(self) -> dict[str, Any]:
        """LINE's error response body."""
        body: dict[str, Any] = {"message": self.message, **self.extra}
        if self.details:
            body["details"] = self.details
        return body


class TokenBucket:
    """``rate`` requests a second on average, bursts up to ``capacity``."""

    def __init__(self, rate: float, clock: Callable[[], float], capacity: float | None = None):
        self.rate, self.clock = rate, clock
        self.capacity = capacity if capacity is not None else max(1.0, rate)
        self.tokens, self.updated = self.capacity, clock()

    def try_take(self) -> bool:
        """Take one token if there is one."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


class RateLimiter:
    """One token bucket per endpoint key; keys without a limit are unlimited."""

    def __init__(self, limits: Mapping[str, float] | None, clock: Callable[[], float]):
        self._buckets = {key: TokenBucket(rate, clock) for key, rate in (limits or {}).items()}

    def allow(self, key: str) -> bool:
        """Whether a request to ``key`` may pass now."""
        bucket = self._buckets.get(key)
        return bucket is None or bucket.try_take()


class ReplyTokens:
    """Reply tokens: issued per user, usable once, within ``ttl_s`` of issue."""

    def __init__(self, ttl_s: float, clock: Callable[[], float]):
        self.ttl_s, self.clock = ttl_s, clock
        self._issued: dict[str, tuple[str, float]] = {}
        self._spent: set[str] = set()

    def issue(self, user_id: str) -> str:
        """A fresh token for a reply to ``user_id``."""
        token = uuid.uuid4().hex
        self._issued[token] = (user_id, self.clock())
        return token

    def user_for(self, token: str) -> str:
        """The user a usable token belongs to; LineError(400) otherwise."""
        issued = self._issued.get(token)
        if issued is None or token in self._spent or self.clock() - issued[1] > self.ttl_s:
            raise LineError(400, INVALID_REPLY_TOKEN)
        return issued[0]

    def spend(self, token: str) -> None:
        """Mark a token used."""
        self._spent.add(token)


@dataclass
class AcceptedRequest:
    """What LINE remembers about a request accepted with a retry key."""

    request_id: str
    sent_messages: list[dict[str, str]]
    at: float


class RetryKeys:
    """``X-Line-Retry-Key`` values of accepted requests, kept for 24 hours."""

    def __init__(self, clock: Callable[[], float]):
        self.clock = clock
        self._accepted: dict[str, AcceptedRequest] = {}

    def refuse_if_accepted(self, key: str | None, with_sent_messages: bool) -> None:
        """LineError(409) when ``key`` already came with an accepted request."""
        accepted = self._accepted.get(key) if key else None
        if accepted is None or self.clock() - accepted.at > RETRY_KEY_TTL_S:
            return
        error = LineError(409, RETRY_KEY_ACCEPTED)
        error.headers["x-line-accepted-request-id"] = accepted.request_id
        if with_sent_messages:
            error.extra["sentMessages"] = accepted.sent_messages
        raise error

    def accept(self, key: str | None, request_id: str, sent: list[dict[str, str]]) -> None:
        """Remember an accepted request."""
        if key:
            self._accepted[key] = AcceptedRequest(request_id, sent, self.clock())


class Quota:
    """The monthly message quota: messages × recipients for push-type sends."""

    def __init__(self) -> None:
        self.limit: int | None = None
        self.offset = 0
        self.delivered = 0

    @property
    def total_usage(self) -> int:
        """What LINE reports as ``totalUsage``."""
        return self.offset + self.delivered

    def reserve(self, count: int) -> None:
        """Count ``count`` messages, or LineError(429) when they do not fit."""
        if self.limit is not None and self.total_usage + count > self.limit:
            raise LineError(429, QUOTA_EXHAUSTED)
        self.delivered += count


class FailurePlan:
    """Injected failures: a queue of planned statuses and a random failure rate."""

    def __init__(self) -> None:
        self._planned: list[list[Any]] = []  # [status, times left, endpoint or None]
        self._statuses: tuple[int, ...] = (429, 500)
        self._rate, self._random = 0.0, random.Random(0)

    def fail_next(self, status: int, times: int, endpoint: str | None) -> None:
        """Fail the next ``times`` requests to ``endpoint`` (None: any message endpoint)."""
        self._planned.append([status, times, endpoint])

    def set_rate(self, rate: float, statuses: Iterable[int], seed: int) -> None:
        """Fail push, multicast and reply at random with probability ``rate``."""
        self._rate, self._statuses, self._random = rate, tuple(statuses), random.Random(seed)

    def draw(self, endpoint: str) -> int | None:
        """The status to fail this request with, or None to let it through."""
        for plan in self._planned:
            if plan[2] in (None, endpoint) and plan[1] > 0:
                plan[1] -= 1
                return int(plan[0])
        random_ok = endpoint in ("push", "multicast", "reply") and self._rate > 0
        if random_ok and self._random.random() < self._rate:
            return self._random.choice(self._statuses)
        return None


class RichMenus:
    """Rich menus, their images, per-user links, the default menu and aliases."""

    def __init__(self) -> None:
        self.menus: dict[str, dict[str, Any]] = {}
        self.images: dict[str, tuple[str, bytes]] = {}
        self.links: dict[str, str] = {}
        self.default: str | None = None
        self.aliases: dict[str, str] = {}

    def create(self, request: Mapping[str, Any]) -> str:
        """Store a rich menu and return its new ID."""
        menu_id = f"richmenu-{uuid.uuid4().hex}"
        self.menus[menu_id] = {"richMenuId": menu_id, **request}
        return menu_id

    def get(self, menu_id: str) -> dict[str, Any]:
        """A rich menu object; LineError(404) if unknown."""
        if menu_id not in self.menus:
            raise LineError(404, "Not found")
        return self.menus[menu_id]

    def delete(self, menu_id: str) -> None:
        """Remove a menu with its image, links and aliases."""
        self.get(menu_id)
        del self.menus[menu_id]
        self.images.pop(menu_id, None)
        self.links = {user: m for user, m in self.links.items() if m != menu_id}
        self.aliases = {alias: m for alias, m in self.aliases.items() if m != menu_id}
        self.default = None if self.default == menu_id else self.default

    def upload(self, menu_id: str, content_type: str, data: bytes) -> None:
        """Attach the image once, as LINE allows; it must be a JPEG/PNG of the menu's size."""
        size = self.get(menu_id).get("size", {})
        if menu_id in self.images:
            raise LineError(400, "An image has already been uploaded to the richmenu")
        if content_type not in _IMAGE_TYPES or not data:
            raise LineError(415, "Unsupported Media Type")
        if len(data) > _RICH_MENU_IMAGE_MAX_BYTES:
            raise LineError(413, "Request Entity Too Large")
        if _image_size(data) != (size.get("width"), size.get("height")):
            raise LineError(400, "The image size does not match the rich menu size")
        self.images[menu_id] = (content_type, data)

    def usable(self, menu_id: str) -> str:
        """A menu that exists and has its image, as LINE requires before linking."""
        self.get(menu_id)
        if menu_id not in self.images:
            raise LineError(400, "Must upload richmenu image before applying it to user")
        return menu_id

    def alias(self, alias_id: str) -> dict[str, str]:
        """An alias object; LineError(404) if unknown."""
        if alias_id not in self.aliases:
            raise LineError(404, "richmenu alias not found")
        return {"richMenuAliasId": alias_id, "richMenuId": self.aliases[alias_id]}


def _image_size(data: bytes) -> tuple[int, int] | None:
    try:
        with Image.open(BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError):
        return None
