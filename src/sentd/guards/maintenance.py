"""Maintenance mode: one flag in the database; every process follows it.

`sentd maintenance on|off` writes the flag and sends a NOTIFY; API processes listen and also
re-read the flag every few seconds, so a lost notification heals itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sentd.db.database import Database
from sentd.db.repos import system_flags
from sentd.failures import describe

log = logging.getLogger("sentd.maintenance")
REFRESH_INTERVAL_S = 5.0


class MaintenanceSwitch:
    def __init__(self, db: Database) -> None:
        self._db = db
        self.on = False
        self._task: asyncio.Task[None] | None = None
        self._refreshing: set[asyncio.Task[None]] = set()

    async def refresh(self) -> None:
        async with self._db.connection() as conn:
            value = await system_flags.get(conn, system_flags.MAINTENANCE)
        on = bool(value and value.get("on"))
        if on != self.on:
            log.warning("maintenance mode %s", "on" if on else "off")
        self.on = on

    def on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload == system_flags.MAINTENANCE:
            task = asyncio.get_running_loop().create_task(self.refresh())
            self._refreshing.add(task)
            task.add_done_callback(self._refreshing.discard)

    async def start(self) -> None:
        await self.refresh()
        self._task = asyncio.create_task(self._poll())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_INTERVAL_S)
            try:
                await self.refresh()
            except Exception as exc:
                log.warning("could not read the maintenance flag: %s", describe(exc))


async def set_maintenance(db: Database, on: bool) -> None:
    async with db.transaction() as conn:
        await system_flags.put(conn, system_flags.MAINTENANCE, {"on": on})
