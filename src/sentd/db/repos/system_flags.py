"""Process-wide switches stored in the database, so every process sees them."""

from __future__ import annotations

from typing import Any

from sentd.db.types import Connection

MAINTENANCE = "maintenance"
CHANNEL = "sentd_system_flags"  # NOTIFY channel; the payload is the flag's name


async def get(conn: Connection, name: str) -> Any:
    return await conn.fetchval("SELECT value FROM system_flags WHERE name = $1", name)


async def put(conn: Connection, name: str, value: Any) -> None:
    await conn.execute(
        "INSERT INTO system_flags (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE "
        "SET value = EXCLUDED.value, updated_at = now()",
        name,
        value,
    )
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, name)
