"""Worker-loop heartbeats, so `/status` can tell which loops are alive in any process."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sentd.db.types import Connection


async def beat(conn: Connection, loop_name: str, process: str) -> datetime:
    """Record a beat; return its time (the database's clock)."""
    beat_at: datetime = await conn.fetchval(
        "INSERT INTO worker_heartbeats (loop_name, process) VALUES ($1, $2) "
        "ON CONFLICT (loop_name, process) DO UPDATE SET last_beat_at = now() "
        "RETURNING last_beat_at",
        loop_name,
        process,
    )
    return beat_at


async def alive(conn: Connection, within_s: float) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        "SELECT loop_name, process, last_beat_at FROM worker_heartbeats "
        "WHERE last_beat_at > now() - make_interval(secs => $1) ORDER BY loop_name, process",
        within_s,
    )
    return rows


async def forget_older_than(conn: Connection, seconds: float) -> str:
    status: str = await conn.execute(
        "DELETE FROM worker_heartbeats WHERE last_beat_at < now() - make_interval(secs => $1)",
        seconds,
    )
    return status


async def forget_process(conn: Connection, process: str) -> None:
    """Delete the heartbeats of one process (it is stopping cleanly)."""
    await conn.execute("DELETE FROM worker_heartbeats WHERE process = $1", process)
