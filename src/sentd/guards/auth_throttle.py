"""Throttle repeated failed authentication from one client address.

Each unknown, malformed, expired or revoked key counts as a failure against the client's address;
past `SENTD_AUTH_FAILURE_LIMIT` (default 20 a minute, moving window) every request from that
address answers 429 `BUSINESS_002` with `Retry-After` until the window has room again. Keys carry
about 238 bits of randomness, so this is not what makes them unguessable; it keeps a scanner from
loading the database and the logs.
"""

from __future__ import annotations

import logging
import math
import time

from limits import parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter

log = logging.getLogger("sentd.auth")


class AuthFailureThrottle:
    def __init__(self, storage: Storage, limit: str, namespace: str) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        self._item = parse(limit)
        self._namespace = namespace

    async def retry_after(self, client: str) -> int | None:
        """Seconds until `client` may try again, or None when it is not throttled (or the
        counters are unreachable: the throttle fails open)."""
        try:
            return await self._retry_after(client)
        except Exception as exc:
            log.warning("auth-failure throttle not checked: %s", exc)
            return None

    async def _retry_after(self, client: str) -> int | None:
        if await self._limiter.test(self._item, self._namespace, "auth-failure", client):
            return None
        stats = await self._limiter.get_window_stats(
            self._item, self._namespace, "auth-failure", client
        )
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def record_failure(self, client: str) -> None:
        try:
            await self._limiter.hit(self._item, self._namespace, "auth-failure", client)
        except Exception as exc:
            log.warning("auth failure not counted: %s", exc)
