"""Request rate limits per organization and mode, with the `limits` library.

Each class of route has a sustained rate per minute and a burst (at most that many requests in
any one second); both are moving windows. Profiles count against their organization. Message
sends are counted separately, in messages (recipients × channels), against the plan's
messages per minute.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from enum import StrEnum

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter

from sentd.auth.principal import Principal

log = logging.getLogger("sentd.ratelimits")


class RateClass(StrEnum):
    STANDARD = "standard"
    SENSITIVE = "sensitive"


@dataclass(frozen=True, slots=True)
class Verdict:
    limit: int
    remaining: int
    reset_at: int  # Unix seconds
    retry_after: int | None  # seconds; None when allowed

    @property
    def allowed(self) -> bool:
        return self.retry_after is None

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
        }


class RateLimiter:
    def __init__(self, storage: Storage, namespace: str) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
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
        """Count `count` messages against the plan's messages per minute."""
        item = RateLimitItemPerMinute(principal.limits.messages_per_minute)
        return await self._hit((item,), self._keys(principal, "messages"), cost=count)

    async def _hit(
        self,
        items: tuple[RateLimitItem, ...],
        keys: tuple[str, ...],
        cost: int = 1,
    ) -> Verdict:
        try:
            return await self._count(items, keys, cost)
        except Exception as exc:  # the shared counters are unreachable (Redis down)
            # Fail open: an outage of the counters must not stop the API. Logged, and shown as
            # degraded by /status.
            log.warning("rate limits not counted: %s: %s", exc.__class__.__name__, exc)
            return Verdict(items[0].amount, items[0].amount, math.ceil(time.time()) + 60, None)

    async def _count(
        self, items: tuple[RateLimitItem, ...], keys: tuple[str, ...], cost: int
    ) -> Verdict:
        """One atomic check-and-count per window, the shortest window first: a request the
        burst refuses is not counted in the minute's window; one the minute's window refuses
        stays counted in the burst's second."""
        sustained = items[0]
        for item in sorted(items, key=lambda i: i.get_expiry()):
            if not await self._limiter.hit(item, *keys, cost=cost):
                return await self._verdict(sustained, keys, blocked_by=item)
        return await self._verdict(sustained, keys, blocked_by=None)

    async def _verdict(
        self, sustained: RateLimitItem, keys: tuple[str, ...], blocked_by: RateLimitItem | None
    ) -> Verdict:
        stats = await self._limiter.get_window_stats(sustained, *keys)
        retry_after = None
        if blocked_by is not None:
            blocked = await self._limiter.get_window_stats(blocked_by, *keys)
            retry_after = max(1, math.ceil(blocked.reset_time - time.time()))
        return Verdict(
            limit=sustained.amount,
            remaining=max(0, stats.remaining),
            reset_at=math.ceil(stats.reset_time),
            retry_after=retry_after,
        )
