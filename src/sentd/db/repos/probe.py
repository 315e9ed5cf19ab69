"""The cheapest statement: what the health checks time to tell that the database answers."""

from __future__ import annotations

from sentd.db.types import Connection


async def round_trip(conn: Connection) -> None:
    await conn.fetchval("SELECT 1")
