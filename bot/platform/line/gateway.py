"""Talking to LINE through line-bot-sdk v3's async client, with timeouts, retries and limits."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from linebot.v3.messaging import AsyncApiClient, AsyncMessagingApi, Configuration
from linebot.v3.messaging.exceptions import ApiException
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)
from yarl import URL

from bot.platform.line import limits
from bot.platform.line.prepared import (
    PreparedApiClient,
    multicast_request,
    push_request,
    reply_request,
)
from bot.platform.observability import metrics
from bot.settings import Settings

log = logging.getLogger(__name__)

Outcome = Literal["sent", "duplicate", "rejected", "quota", "failed", "invalid"]
MONTHLY_LIMIT_HINT = "monthly limit"


@dataclass(frozen=True)
class SendResult:
    """What became of one call: `sent` and `duplicate` (409, already accepted) both delivered."""

    outcome: Outcome
    status: int | None = None
    attempts: int = 1
    detail: str = ""

    @property
    def delivered(self) -> bool:
        """LINE has accepted the message (now or on an earlier attempt)."""
        return self.outcome in ("sent", "duplicate")


class LineGateway(Protocol):
    """What the bot needs from LINE; the SDK implementation and test fakes both fit."""

    async def reply(self, reply_token: str, messages: Sequence[dict[str, Any]]) -> SendResult:
        """Answer through a reply token (free of quota)."""
        ...

    async def push(self, to: str, messages: Sequence[dict[str, Any]], retry_key: str) -> SendResult:
        """Send to one user; the retry key makes repeats harmless."""
        ...

    async def multicast(
        self, to: Sequence[str], messages: Sequence[dict[str, Any]], retry_key: str
    ) -> SendResult:
        """Send to up to 500 users in one call."""
        ...

    async def get_profile_language(self, user_id: str) -> str | None:
        """The language the user's LINE app is set to, or None when LINE does not say."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class _Retryable(Exception):
    def __init__(self, status: int | None, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def _no_env_lookups(client: AsyncApiClient, host: str) -> None:
    """The SDK's aiohttp session trusts the environment, so aiohttp looks for a proxy (in a
    thread) and reads ~/.netrc on every call: about a seventh of a worker's CPU in a surge
    of replies. When no proxy applies to LINE's host, there is nothing for it to find (LINE
    takes a bearer token, not netrc credentials): look once, here, not per call."""
    try:
        get_env_proxy_for_url(URL(host))
    except LookupError:
        session = getattr(getattr(client, "rest_client", None), "pool_manager", None)
        if isinstance(session, aiohttp.ClientSession):
            session._trust_env = False  # noqa: SLF001 - a ClientSession attribute aiohttp allows
    except ValueError:
        pass  # an unparsable host: leave the SDK's defaults alone


class SdkLineGateway:
    """LINE through the official SDK, pointed at any host (LINE, the stand-in, the simulator)."""

    def __init__(
        self,
        *,
        host: str,
        access_token: str,
        timeout_s: float = 10.0,
        max_attempts: int = 5,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
        pool_size: int = 64,
    ) -> None:
        configuration = Configuration(host=host, access_token=access_token)
        # The SDK's default pool (5 x CPUs) caps throughput at ~10 calls per LINE round trip.
        configuration.connection_pool_maxsize = pool_size
        self._client: AsyncApiClient = PreparedApiClient(configuration)
        _no_env_lookups(self._client, host)
        self._api = AsyncMessagingApi(self._client)
        self._timeout = timeout_s
        self._max_attempts = max_attempts
        self._wait = wait_random_exponential(multiplier=backoff_base_s, max=backoff_max_s)

    async def reply(self, reply_token: str, messages: Sequence[dict[str, Any]]) -> SendResult:
        """Reply once; an expired or used token is reported `invalid` for the caller to push."""
        limits.check_messages(messages)
        request = reply_request(reply_token, messages)
        try:
            await self._api.reply_message(request, _request_timeout=self._timeout)
        except ApiException as exc:
            metrics.line_responses.labels("reply", str(exc.status)).inc()
            if exc.status == 400 and "reply token" in str(exc.body).lower():
                return SendResult("invalid", exc.status, detail="reply token spent or expired")
            return _classify(exc, 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            metrics.line_responses.labels("reply", "network").inc()
            return SendResult("failed", None, detail=type(exc).__name__)
        metrics.line_responses.labels("reply", "200").inc()
        return SendResult("sent", 200)

    async def push(self, to: str, messages: Sequence[dict[str, Any]], retry_key: str) -> SendResult:
        """Push with retries that keep one retry key."""
        limits.check_messages(messages)
        request = push_request(to, messages)
        return await self._with_retries(
            "push",
            lambda: self._api.push_message(
                request, x_line_retry_key=retry_key, _request_timeout=self._timeout
            ),
        )

    async def multicast(
        self, to: Sequence[str], messages: Sequence[dict[str, Any]], retry_key: str
    ) -> SendResult:
        """Multicast to at most 500 users with retries that keep one retry key."""
        limits.check_messages(messages)
        limits.check_recipients(to)
        request = multicast_request(to, messages)
        return await self._with_retries(
            "multicast",
            lambda: self._api.multicast(
                request, x_line_retry_key=retry_key, _request_timeout=self._timeout
            ),
        )

    async def get_quota(self) -> tuple[int | None, int]:
        """The monthly limit (None = unlimited) and this month's consumption."""
        quota = await self._api.get_message_quota(_request_timeout=self._timeout)
        used = await self._api.get_message_quota_consumption(_request_timeout=self._timeout)
        return (quota.value if quota.type == "limited" else None), int(used.total_usage or 0)

    async def get_profile_language(self, user_id: str) -> str | None:
        """The language LINE reports for a user, to pick a first locale."""
        try:
            profile = await self._api.get_profile(user_id, _request_timeout=self._timeout)
        except (ApiException, aiohttp.ClientError, TimeoutError):
            return None
        return profile.language

    async def close(self) -> None:
        """Close the SDK's aiohttp session."""
        await self._client.close()

    async def _with_retries(self, endpoint: str, call: Any) -> SendResult:
        attempts = 0
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self._max_attempts),
                wait=self._wait,
                retry=retry_if_exception(lambda e: isinstance(e, _Retryable)),
                reraise=False,
            ):
                with attempt:
                    attempts += 1
                    result = await self._attempt(endpoint, call, attempts)
                    if result is None:
                        continue
                    return result
        except RetryError as exc:
            last = exc.last_attempt.exception()
            status = last.status if isinstance(last, _Retryable) else None
            return SendResult("failed", status, attempts, detail=str(last))
        return SendResult("failed", None, attempts, detail="no attempt made")

    async def _attempt(self, endpoint: str, call: Any, attempts: int) -> SendResult | None:
        try:
            await call()
        except ApiException as exc:
            metrics.line_responses.labels(endpoint, str(exc.status)).inc()
            result = _classify(exc, attempts)
            if result.outcome == "failed":
                raise _Retryable(exc.status, result.detail) from None
            return result
        except (aiohttp.ClientError, TimeoutError) as exc:
            metrics.line_responses.labels(endpoint, "network").inc()
            raise _Retryable(None, type(exc).__name__) from None
        metrics.line_responses.labels(endpoint, "200").inc()
        return SendResult("sent", 200, attempts)


def gateway_from_settings(settings: Settings, *, concurrency: int = 32) -> SdkLineGateway:
    """The SDK gateway as configured, with a connection pool for `concurrency` calls."""
    return SdkLineGateway(
        host=settings.line_api_base_url,
        access_token=settings.line_channel_access_token.get_secret_value(),
        timeout_s=settings.line_timeout_s,
        max_attempts=settings.line_max_attempts,
        backoff_base_s=settings.line_backoff_base_s,
        pool_size=max(64, 2 * concurrency),
    )


def _classify(exc: ApiException, attempts: int) -> SendResult:
    """409 = already accepted; monthly-limit 429 is final; 429/5xx retry; other 4xx are final."""
    status = exc.status or 0
    body = str(exc.body or "")
    if status == 409:
        return SendResult("duplicate", status, attempts, detail="retry key already accepted")
    if status == 429 and MONTHLY_LIMIT_HINT in body.lower():
        return SendResult("quota", status, attempts, detail="monthly message quota spent")
    if status == 429 or status >= 500:
        return SendResult("failed", status, attempts, detail=f"LINE answered {status}")
    log.warning("LINE refused a request", extra={"status": status, "detail": body[:300]})
    return SendResult("rejected", status, attempts, detail=body[:200])


def new_retry_key() -> str:
    """A fresh retry key (LINE wants a UUID)."""
    return str(uuid.uuid4())


def retry_key_for(name: str) -> str:
    """A stable retry key derived from a name, so a resend after a crash reuses it."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"tsunagari:{name}"))
