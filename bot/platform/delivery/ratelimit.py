"""Token buckets that keep the sender within LINE's documented per-endpoint request rates.

LINE limits a channel to 2,000 push and 200 multicast requests a second. The gateway
retries 429s with back-off, but staying under the limit in the first place is what makes
a 100,000-member notice finish as fast as LINE allows instead of bouncing off it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping

Sleep = Callable[[float], Awaitable[None]]
_EPSILON = 1e-9


class TokenBucket:
    """`rate` tokens a second, holding at most `burst`; `acquire` waits for one, in order."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate, self.burst = rate, burst
        self._clock, self._sleep = clock, sleep
        self._tokens, self._updated = burst, clock()
        self._lock = asyncio.Lock()  # FIFO: waiters are served in arrival order

    async def acquire(self) -> float:
        """Take one token, waiting as long as needed; returns the seconds waited."""
        async with self._lock:
            waited = 0.0
            while True:
                self._refill()
                if self._tokens >= 1.0 - _EPSILON:  # float refills land a hair short of 1
                    self._tokens = max(0.0, self._tokens - 1.0)
                    return waited
                delay = (1.0 - self._tokens) / self.rate
                await self._sleep(delay)
                waited += delay

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now


class EndpointLimits:
    """One bucket per LINE endpoint; endpoints without a configured rate pass freely."""

    def __init__(self, buckets: Mapping[str, TokenBucket]) -> None:
        self._buckets = dict(buckets)

    @classmethod
    def from_rates(
        cls,
        rates: Mapping[str, float],
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> EndpointLimits:
        """Buckets for `{"multicast": 200.0, "push": 2000.0}`-style rates."""
        return cls(
            {
                endpoint: TokenBucket(rate, burst, clock=clock, sleep=sleep)
                for endpoint, rate in rates.items()
            }
        )

    async def acquire(self, endpoint: str) -> float:
        """Wait for the endpoint's next slot; returns the seconds waited."""
        bucket = self._buckets.get(endpoint)
        return 0.0 if bucket is None else await bucket.acquire()
