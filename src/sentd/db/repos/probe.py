"""The cheapest statement: what the health checks time to tell that the database answers."""

from __future__ import annotations

from typing import Any


async def round_trip(conn: Any) -> None:
    await conn.fetchval("SELECT 1")
