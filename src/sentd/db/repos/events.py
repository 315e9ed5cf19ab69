"""Events and their delivery jobs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sentd.ids import new_id


async def insert(
    conn: Any,
    event_id: uuid.UUID,
    customer_id: uuid.UUID,
    livemode: bool,
    event_type: str,
    envelope: dict[str, Any],
    now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO events (id, customer_id, livemode, event_type, envelope, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        event_id,
        customer_id,
        livemode,
        event_type,
        envelope,
        now,
    )


async def insert_many(conn: Any, rows: list[tuple[Any, ...]]) -> None:
    """Rows of (id, customer_id, livemode, event_type, envelope, created_at)."""
    await conn.executemany(
        "INSERT INTO events (id, customer_id, livemode, event_type, envelope, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        rows,
    )


async def queue_deliveries(
    conn: Any, event_id: uuid.UUID, event_type: str, webhook_ids: list[uuid.UUID], now: datetime
) -> None:
    await conn.executemany(
        "INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, state, "
        "next_attempt_at, created_at) VALUES ($1, $2, $3, $4, 'pending', $5, $5)",
        [(new_id(), webhook_id, event_id, event_type, now) for webhook_id in webhook_ids],
    )
