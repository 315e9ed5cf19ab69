"""`Database`: the pool of a process and the one way to run an operation in a transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sentd.config import Settings
from sentd.db.pool import create_pool


class Database:
    def __init__(self, pool: Any, dsn: str) -> None:
        self.pool = pool
        self.dsn = dsn

    @classmethod
    async def connect(cls, dsn: str, settings: Settings) -> Database:
        return cls(await create_pool(dsn, settings), dsn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield conn

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A connection without a transaction: for single-statement reads."""
        async with self.pool.acquire() as conn:
            yield conn

    async def close(self) -> None:
        await self.pool.close()
