"""The `limits` storage of a process: Redis when `SENTD_REDIS_URL` is set (shared by every process),
memory otherwise (per process). The Redis connections are ours, so shutdown closes them.

Every use of Redis goes through `call()`: it is bounded by `SENTD_REDIS_TIMEOUT_MS` and guarded by
a circuit breaker (`breaker.py`), so a frozen or lost Redis costs a request at most that timeout
once, and nothing while the breaker is open.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.asyncio
from limits.aio.storage import MemoryStorage, RedisStorage, Storage

from sentd.guards.breaker import CircuitBreaker

T = TypeVar("T")


class CountersUnavailable(Exception):
    """The shared counters could not be used; the caller fails open."""


class LimiterStorage:
    def __init__(
        self, redis_url: str | None, *, timeout_s: float = 0.2, cooldown_s: float = 5.0
    ) -> None:
        self._pool: redis.asyncio.ConnectionPool | None = None
        self._timeout_s = timeout_s
        self.breaker = CircuitBreaker(cooldown_s)
        self.storage: Storage
        if redis_url:
            self._pool = redis.asyncio.ConnectionPool.from_url(
                redis_url,
                socket_timeout=timeout_s,
                socket_connect_timeout=timeout_s,
            )
            options: dict[str, Any] = {"connection_pool": self._pool}
            self.storage = RedisStorage("async+" + redis_url, implementation="redispy", **options)
        else:
            self.storage = MemoryStorage()

    @property
    def shared(self) -> bool:
        return self._pool is not None

    def script(self, source: str) -> Any:
        """A Lua script on the shared counters (run through `call`), or None without Redis."""
        if self._pool is None:
            return None
        return redis.asyncio.Redis(connection_pool=self._pool).register_script(source)

    def key(self, key: str) -> str:
        """`key` as the `limits` library stores it in Redis (its prefix)."""
        prefixed: str = self.storage.bridge.prefixed_key(key)  # type: ignore[attr-defined]
        return prefixed

    async def call(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run `operation` (a few counter commands) within the timeout; CountersUnavailable when
        it fails, times out, or the breaker is open."""
        if self._pool is None:
            return await operation()
        if not self.breaker.allows():
            raise CountersUnavailable("Redis circuit breaker is open")
        try:
            async with asyncio.timeout(self._timeout_s):
                result = await operation()
        except Exception as exc:
            self.breaker.failed(exc)
            raise CountersUnavailable(str(exc) or exc.__class__.__name__) from exc
        self.breaker.succeeded()
        return result

    async def reachable(self) -> bool | None:
        """Whether the shared counters answer; None when they live in this process's memory.
        Asked through the breaker: during a cool-down Redis is not asked (it failed moments
        ago); after it, this is a probe like any other."""
        pool = self._pool
        if pool is None:
            return None
        try:
            return bool(await self.call(lambda: redis.asyncio.Redis(connection_pool=pool).ping()))
        except CountersUnavailable:
            return False

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()
