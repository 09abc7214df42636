"""Token buckets, one per client address and kind of request (docs/relay.md, "Access").

A bucket holds up to `burst` tokens and gains `rate` tokens a second; each
request takes one, and a request that finds the bucket empty is refused. The
clock is injectable, so unit tests run on virtual time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]
MAX_KEYS = 10_000  # addresses remembered per limiter; full buckets are forgotten first


@dataclass(frozen=True)
class Rate:
    """`burst` requests at once, then `per_s` a second."""

    burst: float
    per_s: float


class TokenBucket:
    """One client's allowance of one kind of request."""

    def __init__(self, rate: Rate, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._tokens = rate.burst
        self._at = clock()

    def take(self) -> bool:
        """Spend a token; False (nothing spent) when there is none."""
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    @property
    def full(self) -> bool:
        self._refill()
        return self._tokens >= self.rate.burst

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.rate.burst, self._tokens + max(0.0, now - self._at) * self.rate.per_s)
        self._at = now


class RateLimiter:
    """Token buckets by key (a client address), made on first use and forgotten once full again."""

    def __init__(self, rate: Rate, clock: Clock = time.monotonic, max_keys: int = MAX_KEYS) -> None:
        self.rate = rate
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, TokenBucket] = {}

    def allow(self, key: str) -> bool:
        """Whether `key` may make one more request now (and count it if so)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._prune()
            bucket = self._buckets[key] = TokenBucket(self.rate, self._clock)
        return bucket.take()

    def __len__(self) -> int:
        return len(self._buckets)

    def _prune(self) -> None:
        """Forget full buckets (they behave like new ones); if none is full, the oldest half."""
        full = [key for key, bucket in self._buckets.items() if bucket.full]
        for key in full or list(self._buckets)[: len(self._buckets) // 2 + 1]:
            del self._buckets[key]
