"""Events and their delivery jobs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sentd.db.params import Params
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

    def values(self) -> dict[str, Any]:
        """The values of `insert_ctes`, by name."""
        return values_of([self])


def values_of(batches: Sequence[EventBatch]) -> dict[str, Any]:
    """The values of `insert_ctes` writing `batches` (of one customer and mode) in order, each
    event created at its batch's `now`."""
    first = batches[0]
    events = [(event, batch.now) for batch in batches for event in batch.events]
    deliveries = [delivery for batch in batches for delivery in batch.deliveries]
    return {
        "event.customer_id": first.customer_id,
        "event.livemode": first.livemode,
        "event.id": [e[0] for e, _ in events],
        "event.type": [e[1] for e, _ in events],
        "event.envelope": [e[2] for e, _ in events],
        "event.created_at": [now for _, now in events],
        "delivery.id": [new_id() for _ in deliveries],
        "delivery.event_id": [d[0] for d in deliveries],
        "delivery.webhook_id": [d[1] for d in deliveries],
    }


def insert_ctes(p: Params) -> str:
    """Two common table expressions (`inserted_events`, `queued_deliveries`) that write an
    `EventBatch`, its values (`EventBatch.values`) named `event.*` and `delivery.*` in `p`: for
    one statement with other writes."""
    return f"""
        inserted_events AS (
            INSERT INTO events (id, customer_id, livemode, event_type, envelope, created_at)
            SELECT e.id, {p("event.customer_id", "uuid")}, {p("event.livemode", "boolean")},
                e.event_type, e.envelope, e.created_at
            FROM unnest({p("event.id", "uuid[]")}, {p("event.type", "text[]")},
                {p("event.envelope", "jsonb[]")}, {p("event.created_at", "timestamptz[]")})
                AS e(id, event_type, envelope, created_at)
            RETURNING id, event_type, created_at
        ),
        queued_deliveries AS (
            INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, state,
                next_attempt_at, created_at)
            SELECT d.id, d.webhook_id, i.id, i.event_type, 'pending', i.created_at, i.created_at
            FROM unnest({p("delivery.id", "uuid[]")}, {p("delivery.event_id", "uuid[]")},
                {p("delivery.webhook_id", "uuid[]")})
                WITH ORDINALITY AS d(id, event_id, webhook_id, position)
            JOIN inserted_events i ON i.id = d.event_id
            ORDER BY d.position
        )"""


_PARAMS = Params()
_INSERT = f"WITH {insert_ctes(_PARAMS)} SELECT"


async def insert(conn: Connection, batch: EventBatch) -> None:
    """Write the batch in one statement."""
    await conn.execute(_INSERT, *_PARAMS.bind(batch.values()))
