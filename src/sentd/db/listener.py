"""`Listener`: the one connection of a process that LISTENs for NOTIFY (key revocations, the
maintenance flag), kept alive across database restarts.

A LISTEN lives on one connection: when PostgreSQL restarts, that connection is gone and every
notification sent before a new one LISTENs again is lost. So the listener

* notices the loss at once (asyncpg's termination callback) or within `CHECK_INTERVAL_S` (a
  periodic `SELECT 1`, for a connection that hangs rather than closes);
* calls `on_lost` (the process stops trusting state that notifications keep fresh: the
  authenticator stops caching keys);
* reconnects with capped exponential backoff, LISTENs on every channel again, then calls
  `on_restored` (caches are dropped — they may have missed a notification — and the maintenance
  flag is re-read).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from sentd.failures import FailureStreak

log = logging.getLogger("sentd.db.listener")

Callback = Callable[[Any, int, str, str], None]
Hook = Callable[[], Awaitable[None]]
CHECK_INTERVAL_S = 5.0
PING_TIMEOUT_S = 3.0
RECONNECT_BASE_S = 0.5
RECONNECT_CAP_S = 5.0


class Listener:
    def __init__(
        self,
        dsn: str,
        channels: dict[str, Callback],
        *,
        on_lost: Hook,
        on_restored: Hook,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self._dsn = dsn
        self._channels = channels
        self._on_lost = on_lost
        self._on_restored = on_restored
        self._connect_timeout_s = connect_timeout_s
        self._conn: asyncpg.Connection | None = None
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.reconnects = 0

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._lost.is_set() and not self._conn.is_closed()

    async def start(self) -> None:
        """Connect and LISTEN (failing if the database is unreachable), then keep it so."""
        await self._connect()
        self._task = asyncio.create_task(self._supervise(), name="sentd-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._close()

    async def _connect(self) -> None:
        conn = await asyncpg.connect(self._dsn, timeout=self._connect_timeout_s)
        try:
            for channel, callback in self._channels.items():
                await conn.add_listener(channel, callback)
        except BaseException:
            conn.terminate()
            raise
        conn.add_termination_listener(self._terminated)
        self._conn = conn
        self._lost.clear()

    def _terminated(self, conn: asyncpg.Connection) -> None:
        if conn is self._conn:
            self._lost.set()

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.remove_termination_listener(self._terminated)
            conn.terminate()

    async def _alive(self) -> bool:
        """Wait up to `CHECK_INTERVAL_S` for a loss; then ping. False when the connection is
        gone."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CHECK_INTERVAL_S):
                await self._lost.wait()
        if self._lost.is_set() or self._conn is None or self._conn.is_closed():
            return False
        try:
            async with asyncio.timeout(PING_TIMEOUT_S):
                await self._conn.fetchval("SELECT 1")
        except Exception as exc:
            log.warning("the LISTEN connection does not answer: %s", exc)
            return False
        return True

    async def _supervise(self) -> None:
        while True:
            if await self._alive():
                continue
            self._lost.set()
            log.warning("the LISTEN connection was lost; reconnecting")
            await self._on_lost()
            await self._close()
            await self._reconnect()

    async def _reconnect(self) -> None:
        streak = FailureStreak(
            log,
            "reconnecting the LISTEN connection",
            base_s=RECONNECT_BASE_S,
            cap_s=RECONNECT_CAP_S,
        )
        while True:
            try:
                await self._connect()
            except Exception as exc:
                await asyncio.sleep(streak.failed(exc))
                continue
            streak.succeeded()
            self.reconnects += 1
            log.info("listening for notifications again")
            try:
                await self._on_restored()
            except Exception:
                # What on_restored refreshes also refreshes itself (the maintenance flag is
                # polled; the key cache stays off until restored): note it and go on.
                log.warning("refreshing state after the reconnection failed", exc_info=True)
            return
