"""The `limits` storage of a process: Redis when `SENTD_REDIS_URL` is set (shared by every process),
memory otherwise (per process). The Redis connections are ours, so shutdown closes them."""

from __future__ import annotations

from typing import Any

import redis.asyncio
from limits.aio.storage import MemoryStorage, RedisStorage, Storage


class LimiterStorage:
    def __init__(self, redis_url: str | None) -> None:
        self._pool: redis.asyncio.ConnectionPool | None = None
        self.storage: Storage
        if redis_url:
            self._pool = redis.asyncio.ConnectionPool.from_url(redis_url)
            options: dict[str, Any] = {"connection_pool": self._pool}
            self.storage = RedisStorage("async+" + redis_url, implementation="redispy", **options)
        else:
            self.storage = MemoryStorage()

    @property
    def shared(self) -> bool:
        return self._pool is not None

    async def reachable(self) -> bool | None:
        """Whether the shared counters answer; None when they live in this process's memory."""
        if self._pool is None:
            return None
        try:
            return bool(await redis.asyncio.Redis(connection_pool=self._pool).ping())
        except Exception:
            return False

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()
