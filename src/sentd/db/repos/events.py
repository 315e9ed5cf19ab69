"""Events and their delivery jobs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sentd.db.types import Connection
from sentd.ids import new_id


@dataclass
class EventBatch:
    """Events of one customer, (id, event_type, envelope), and their delivery jobs, (event id,
    webhook id), queued in the order given."""

    customer_id: uuid.UUID
    livemode: bool
    now: datetime
    events: list[tuple[uuid.UUID, str, dict[str, Any]]] = field(default_factory=list)
    deliveries: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)

    def params(self) -> list[Any]:
        """The nine parameters of `insert_ctes`, in order."""
        return [
            self.customer_id,
            self.livemode,
            self.now,
            [e[0] for e in self.events],
            [e[1] for e in self.events],
            [e[2] for e in self.events],
            [new_id() for _ in self.deliveries],
            [d[0] for d in self.deliveries],
            [d[1] for d in self.deliveries],
        ]


def insert_ctes(first: int) -> str:
    """Two common table expressions (`inserted_events`, `queued_deliveries`) that write an
    `EventBatch`, its parameters numbered from `first`: for one statement with other writes."""
    cust, mode, now, ids, types, envs, dids, devs, hooks = (f"${first + i}" for i in range(9))
    return f"""
        inserted_events AS (
            INSERT INTO events (id, customer_id, livemode, event_type, envelope, created_at)
            SELECT e.id, {cust}::uuid, {mode}::boolean, e.event_type, e.envelope,
                {now}::timestamptz
            FROM unnest({ids}::uuid[], {types}::text[], {envs}::jsonb[])
                AS e(id, event_type, envelope)
            RETURNING id, event_type
        ),
        queued_deliveries AS (
            INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, state,
                next_attempt_at, created_at)
            SELECT d.id, d.webhook_id, i.id, i.event_type, 'pending', {now}, {now}
            FROM unnest({dids}::uuid[], {devs}::uuid[], {hooks}::uuid[])
                WITH ORDINALITY AS d(id, event_id, webhook_id, position)
            JOIN inserted_events i ON i.id = d.event_id
            ORDER BY d.position
        )"""


_INSERT = f"WITH {insert_ctes(1)} SELECT"


async def insert(conn: Connection, batch: EventBatch) -> None:
    """Write the batch in one statement."""
    await conn.execute(_INSERT, *batch.params())
