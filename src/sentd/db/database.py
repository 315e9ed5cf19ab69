"""`Database`: the pool of a process and the one way to run an operation in a transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sentd.config import Settings
from sentd.db.pool import create_pool
from sentd.db.types import Connection
from sentd.metrics import DB_POOL_EXHAUSTED


class PoolExhausted(Exception):
    """No pooled connection became free within the acquire bound: the process is overloaded."""


class Database:
    def __init__(self, pool: Any, dsn: str, acquire_timeout_s: float = 2.0) -> None:
        self.pool = pool
        self.dsn = dsn
        self.acquire_timeout_s = acquire_timeout_s

    @classmethod
    async def connect(cls, dsn: str, settings: Settings) -> Database:
        return cls(await create_pool(dsn, settings), dsn, settings.db_acquire_timeout_s)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A connection without a transaction: for single-statement reads."""
        try:
            conn = await self.pool.acquire(timeout=self.acquire_timeout_s)
        except TimeoutError as exc:
            DB_POOL_EXHAUSTED.inc()
            raise PoolExhausted from exc
        try:
            yield conn
        finally:
            await self.pool.release(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self.connection() as conn, conn.transaction():
            yield conn

    async def close(self) -> None:
        await self.pool.close()
