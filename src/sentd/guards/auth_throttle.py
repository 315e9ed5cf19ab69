"""Throttle repeated failed authentication: per presented key, and per address for many keys.

* **Per presented key.** Each failure (an unknown, malformed, expired or revoked key) counts
  against the SHA-256 digest of the value presented. Past `SENTD_AUTH_FAILURE_LIMIT` (default 20
  a minute, moving window) that value answers 429 `BUSINESS_002` with `Retry-After`, without a
  database lookup. A valid key never fails, so it is never throttled, whoever else fails.
* **Per address, for distinct keys.** A client trying many different keys is counted once per key
  (its first failure in the key's window) against its address; past
  `SENTD_AUTH_FAILURE_ADDRESS_LIMIT` (default 100 distinct keys a minute) its failures answer 429
  instead of 401. Valid keys from that address are still served: the address may be a NAT or a
  proxy shared with innocent clients.

The address is the TCP peer, or what `X-Forwarded-For` says only when the peer is one of
`SENTD_FORWARDED_ALLOW_IPS`. Keys carry about 238 bits of randomness, so none of this is what
makes them unguessable; it keeps a scanner from loading the database and the logs. The counters
live in the limiter storage (Redis when shared) and fail open when it cannot be used.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter

from sentd.guards.limiter import CountersUnavailable, LimiterStorage

log = logging.getLogger("sentd.auth")


def presented_digest(value: str) -> str:
    """What failures are counted against: a digest of the presented value, whatever it is."""
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()


class AuthFailureThrottle:
    def __init__(
        self, counters: LimiterStorage, per_key: str, per_address: str, namespace: str
    ) -> None:
        self._counters = counters
        self._limiter = MovingWindowRateLimiter(counters.storage)
        self._per_key = parse(per_key)
        self._per_address = parse(per_address)
        self._namespace = namespace

    async def key_retry_after(self, digest: str) -> int | None:
        """Seconds until this presented key may be tried again; None when it is not throttled
        (or the counters cannot be used: the throttle fails open)."""
        return await self._retry_after(self._per_key, "auth-failure-key", digest)

    async def record_failure(self, digest: str, address: str) -> int | None:
        """Count a failed authentication. Returns the seconds to wait when `address` is over its
        ceiling of distinct failing keys, else None."""
        try:
            return await self._counters.call(lambda: self._record(digest, address))
        except CountersUnavailable as exc:
            log.debug("auth failure not counted: %s", exc)
            return None

    async def _record(self, digest: str, address: str) -> int | None:
        key_args = (self._namespace, "auth-failure-key", digest)
        address_args = (self._namespace, "auth-failure-address", address)
        stats = await self._limiter.get_window_stats(self._per_key, *key_args)
        first_failure_of_key = stats.remaining >= self._per_key.amount
        await self._limiter.hit(self._per_key, *key_args)
        if first_failure_of_key:
            within = await self._limiter.hit(self._per_address, *address_args)
        else:
            within = await self._limiter.test(self._per_address, *address_args)
        return None if within else await self._wait(self._per_address, address_args)

    async def _retry_after(self, item: RateLimitItem, kind: str, identifier: str) -> int | None:
        args = (self._namespace, kind, identifier)

        async def check() -> int | None:
            if await self._limiter.test(item, *args):
                return None
            return await self._wait(item, args)

        try:
            return await self._counters.call(check)
        except CountersUnavailable as exc:
            log.debug("auth-failure throttle not checked: %s", exc)
            return None

    async def _wait(self, item: RateLimitItem, args: tuple[str, ...]) -> int:
        stats = await self._limiter.get_window_stats(item, *args)
        return max(1, math.ceil(stats.reset_time - time.time()))
