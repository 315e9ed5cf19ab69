"""Events and their delivery jobs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sentd.ids import new_id


async def insert_with_deliveries(
    conn: Any,
    customer_id: uuid.UUID,
    livemode: bool,
    events: list[tuple[uuid.UUID, str, dict[str, Any]]],
    deliveries: list[tuple[uuid.UUID, uuid.UUID]],
    now: datetime,
) -> None:
    """Events of one customer, (id, event_type, envelope), and the delivery jobs for them,
    (event id, webhook id), in one statement; jobs are queued in the order given."""
    await conn.execute(
        """
        WITH inserted AS (
            INSERT INTO events (id, customer_id, livemode, event_type, envelope, created_at)
            SELECT e.id, $1, $2, e.event_type, e.envelope, $3
            FROM unnest($4::uuid[], $5::text[], $6::jsonb[]) AS e(id, event_type, envelope)
            RETURNING id, event_type
        )
        INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, state,
            next_attempt_at, created_at)
        SELECT d.id, d.webhook_id, i.id, i.event_type, 'pending', $3, $3
        FROM unnest($7::uuid[], $8::uuid[], $9::uuid[]) WITH ORDINALITY
            AS d(id, event_id, webhook_id, position)
        JOIN inserted i ON i.id = d.event_id
        ORDER BY d.position
        """,
        customer_id,
        livemode,
        now,
        [e[0] for e in events],
        [e[1] for e in events],
        [e[2] for e in events],
        [new_id() for _ in deliveries],
        [d[0] for d in deliveries],
        [d[1] for d in deliveries],
    )
