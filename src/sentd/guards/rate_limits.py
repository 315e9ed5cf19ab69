"""Request rate limits per organization and mode, with the `limits` library.

Each class of route has a sustained rate per minute and a burst (at most that many requests in
any one second); both are moving windows. Profiles count against their organization. Message
sends are counted separately, in messages (recipients × channels), against the plan's
messages per minute; a send larger than that whole window can never pass, so it is refused at
once as too large rather than told to wait.

A refusal describes the window that refused (its limit, nothing remaining, its reset); an
allowed request describes the sustained window. When the shared counters cannot be used (Redis
down, or its circuit breaker open) requests are let through: the limits fail open.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from enum import StrEnum

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter

from sentd.auth.principal import Principal
from sentd.guards.limiter import CountersUnavailable, LimiterStorage

log = logging.getLogger("sentd.ratelimits")


class RateClass(StrEnum):
    STANDARD = "standard"
    SENSITIVE = "sensitive"


@dataclass(frozen=True, slots=True)
class Verdict:
    limit: int
    remaining: int
    reset_at: int  # Unix seconds
    retry_after: int | None  # seconds; None when allowed (or when waiting cannot help)
    window: str = "minute"  # the window described: "minute" or "second"
    too_large: bool = False  # the request alone is more than the whole window allows

    @property
    def allowed(self) -> bool:
        return self.retry_after is None and not self.too_large

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
        }


def _window_name(item: RateLimitItem) -> str:
    return "second" if item.get_expiry() <= 1 else "minute"


class RateLimiter:
    def __init__(self, counters: LimiterStorage, namespace: str) -> None:
        self._counters = counters
        self._limiter = MovingWindowRateLimiter(counters.storage)
        self._namespace = namespace

    def _items(self, principal: Principal, rate_class: RateClass) -> tuple[RateLimitItem, ...]:
        limits = principal.limits
        if rate_class is RateClass.SENSITIVE:
            return (
                RateLimitItemPerMinute(limits.sensitive_per_minute),
                RateLimitItemPerSecond(limits.sensitive_burst),
            )
        return (
            RateLimitItemPerMinute(limits.requests_per_minute),
            RateLimitItemPerSecond(limits.requests_burst),
        )

    def _keys(self, principal: Principal, kind: str) -> tuple[str, ...]:
        mode = "live" if principal.livemode else "test"
        return (self._namespace, kind, str(principal.organization_id), mode)

    async def hit_request(self, principal: Principal, rate_class: RateClass) -> Verdict:
        """Count one request of `rate_class`; the verdict says whether it may proceed."""
        return await self._hit(
            self._items(principal, rate_class), self._keys(principal, rate_class)
        )

    async def hit_messages(self, principal: Principal, count: int) -> Verdict:
        """Count `count` messages against the plan's messages per minute. More than the whole
        window is `too_large` and counts nothing."""
        item = RateLimitItemPerMinute(principal.limits.messages_per_minute)
        keys = self._keys(principal, "messages")
        if count > item.amount:
            return await self._too_large(item, keys)
        return await self._hit((item,), keys, cost=count)

    async def _hit(
        self,
        items: tuple[RateLimitItem, ...],
        keys: tuple[str, ...],
        cost: int = 1,
    ) -> Verdict:
        try:
            return await self._counters.call(lambda: self._count(items, keys, cost))
        except CountersUnavailable as exc:
            # Fail open: an outage of the counters must not stop the API. Logged (the breaker
            # logs when it opens), and shown as degraded by /status.
            log.debug("rate limits not counted: %s", exc)
            return Verdict(items[0].amount, items[0].amount, math.ceil(time.time()) + 60, None)

    async def _too_large(self, item: RateLimitItem, keys: tuple[str, ...]) -> Verdict:
        try:
            stats = await self._counters.call(lambda: self._limiter.get_window_stats(item, *keys))
            remaining, reset_at = max(0, stats.remaining), math.ceil(stats.reset_time)
        except CountersUnavailable:
            remaining, reset_at = item.amount, math.ceil(time.time()) + 60
        return Verdict(item.amount, remaining, reset_at, None, _window_name(item), too_large=True)

    async def _count(
        self, items: tuple[RateLimitItem, ...], keys: tuple[str, ...], cost: int
    ) -> Verdict:
        """One atomic check-and-count per window, the shortest window first: a request the
        burst refuses is not counted in the minute's window; one the minute's window refuses
        stays counted in the burst's second."""
        for item in sorted(items, key=lambda i: i.get_expiry()):
            if not await self._limiter.hit(item, *keys, cost=cost):
                return await self._refusal(item, keys)
        sustained = items[0]
        stats = await self._limiter.get_window_stats(sustained, *keys)
        return Verdict(
            limit=sustained.amount,
            remaining=max(0, stats.remaining),
            reset_at=math.ceil(stats.reset_time),
            retry_after=None,
            window=_window_name(sustained),
        )

    async def _refusal(self, blocked_by: RateLimitItem, keys: tuple[str, ...]) -> Verdict:
        """The window that refused: its limit, nothing left, and when it has room again."""
        stats = await self._limiter.get_window_stats(blocked_by, *keys)
        reset_time = max(stats.reset_time, time.time())
        return Verdict(
            limit=blocked_by.amount,
            remaining=0,
            reset_at=math.ceil(reset_time),
            retry_after=max(1, math.ceil(reset_time - time.time())),
            window=_window_name(blocked_by),
        )
