"""What the operator's probes read (`/status`, `/metrics`, `sentd worker-health`): which
processes beat recently, and how deep the work queues are."""

from __future__ import annotations

from typing import Any

from sentd.db.repos import heartbeats, probe, queues
from sentd.db.types import Connection

HEARTBEAT_INTERVAL_S = 5.0
# A process missing three beats is taken for dead (it may have been killed: SIGKILL leaves its
# rows behind; a clean exit deletes them).
HEARTBEAT_STALE_S = 3 * HEARTBEAT_INTERVAL_S


async def alive(conn: Connection) -> list[Any]:
    """The (loop_name, process, last_beat_at) rows that beat within `HEARTBEAT_STALE_S`; the API
    processes beat as loop `api`."""
    return await heartbeats.alive(conn, HEARTBEAT_STALE_S)


async def queue_depths(conn: Connection) -> dict[str, dict[str, float]]:
    """Each queue's depth figures (`sentd.db.repos.queues`)."""
    return await queues.depths(conn)


async def round_trip(conn: Connection) -> None:
    """The cheapest statement, which the health checks time."""
    await probe.round_trip(conn)
