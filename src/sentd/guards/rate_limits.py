"""Request rate limits per organization and mode, with the `limits` library.

Each class of route has a sustained rate per minute and a burst (at most that many requests in
any one second); both are moving windows. Profiles count against their organization. Message
sends are counted separately, in messages (recipients × channels), against the plan's
messages per minute; a send larger than that whole window can never pass, so it is refused at
once as too large rather than told to wait.

A refusal describes the window that refused (its limit, nothing remaining, its reset); an
allowed request describes the sustained window. When the shared counters cannot be used (Redis
down, or its circuit breaker open) requests are let through: the limits fail open.

With Redis, all the windows of one check are counted and described by one script (`_HIT`), in
one round trip, on the lists the `limits` library keeps (so its readers see the same counts).
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
from sentd.guards.limiter import BatchedScript, CountersUnavailable, LimiterStorage

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


# Moving windows, as `limits` keeps them: a list per window of the timestamps of its hits,
# newest first, at most `limit` long. KEYS are the windows' lists, shortest window first; ARGV:
# now, the index (1-based) of the window to describe when every window admits, then (limit,
# expiry seconds, cost) per window. Each window in turn takes `cost` hits unless it holds `limit`
# hits younger than its expiry; the first that refuses stops the count (the earlier ones keep
# theirs). Returns {refusing window's index or 0, oldest hit in the described window, its count}.
_HIT = """
local now = tonumber(ARGV[1])
local function stats(key, limit, expiry)
    local low, high, found = 0, limit - 1, nil
    while low <= high do
        local mid = math.floor((low + high) / 2)
        local value = tonumber(redis.call('lindex', key, mid))
        if value and value >= now - expiry then
            found = mid
            low = mid + 1
        else
            high = mid - 1
        end
    end
    if found == nil then
        return {tostring(now), 0}
    end
    return {redis.call('lindex', key, found), found + 1}
end
for i, key in ipairs(KEYS) do
    local base = 3 + (i - 1) * 3
    local limit = tonumber(ARGV[base])
    local expiry = tonumber(ARGV[base + 1])
    local cost = tonumber(ARGV[base + 2])
    local refused = cost > limit
    if not refused then
        local entry = redis.call('lindex', key, limit - cost)
        refused = entry and tonumber(entry) >= now - expiry
    end
    if refused then
        local s = stats(key, limit, expiry)
        return {i, s[1], s[2]}
    end
    for n = 1, cost, 5000 do
        local entries = {}
        for j = n, math.min(n + 4999, cost) do
            entries[#entries + 1] = ARGV[1]
        end
        redis.call('lpush', key, unpack(entries))
    end
    redis.call('ltrim', key, 0, limit - 1)
    redis.call('expire', key, expiry)
end
local d = tonumber(ARGV[2])
local base = 3 + (d - 1) * 3
local s = stats(KEYS[d], tonumber(ARGV[base]), tonumber(ARGV[base + 1]))
return {0, s[1], s[2]}
"""


def _window_name(item: RateLimitItem) -> str:
    return "second" if item.get_expiry() <= 1 else "minute"


class RateLimiter:
    def __init__(self, counters: LimiterStorage, namespace: str) -> None:
        self._counters = counters
        self._limiter = MovingWindowRateLimiter(counters.storage)
        self._namespace = namespace
        self._script = counters.script(_HIT)

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
            # With Redis, counting is a run of the batched script, which bounds its round trip.
            return await self._counters.call(lambda: self._count(items, keys, cost), bounded=True)
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
        if self._script is not None:
            return await self._count_in_one_script(self._script, items, keys, cost)
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

    async def _count_in_one_script(
        self,
        script: BatchedScript,
        items: tuple[RateLimitItem, ...],
        keys: tuple[str, ...],
        cost: int,
    ) -> Verdict:
        ordered = sorted(items, key=lambda i: i.get_expiry())
        now = time.time()
        args: list[float | int] = [now, ordered.index(items[0]) + 1]
        for item in ordered:
            args += [item.amount, item.get_expiry(), cost]
        refusing, oldest, count = await script(
            keys=[self._counters.key(item.key_for(*keys)) for item in ordered], args=args
        )
        described = ordered[refusing - 1] if refusing else items[0]
        reset_time = float(oldest) + described.get_expiry()
        if not refusing:
            return Verdict(
                limit=described.amount,
                remaining=max(0, described.amount - int(count)),
                reset_at=math.ceil(reset_time),
                retry_after=None,
                window=_window_name(described),
            )
        reset_time = max(reset_time, now)
        return Verdict(
            limit=described.amount,
            remaining=0,
            reset_at=math.ceil(reset_time),
            retry_after=max(1, math.ceil(reset_time - now)),
            window=_window_name(described),
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
