"""What retention may delete, and the deletes themselves, a bounded batch at a time.

Each rule names the rows past its cutoff that nothing still needs: a webhook delivery only once
it is final, an event only once no delivery refers to it, a message only once it can no longer
change (not scheduled, queued or accepted) — its status events go with it. Ledger entries are
never deleted: they carry the message id as text, not as a reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sentd.db.types import Connection


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    select_sql: str  # ids of expired rows ($1 the cutoff), the oldest first
    delete_sql: str  # deletes the ids in $1 (and what depends on them)


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule(
            "webhook_attempts",
            "SELECT id FROM webhook_attempts WHERE finished_at < $1 ORDER BY id",
            "DELETE FROM webhook_attempts WHERE id = ANY($1::bigint[])",
        ),
        Rule(
            "webhook_deliveries",
            "SELECT id FROM webhook_deliveries WHERE created_at < $1 "
            "AND state IN ('delivered', 'failed') ORDER BY created_at",
            "WITH gone AS (DELETE FROM webhook_attempts WHERE delivery_id = ANY($1::uuid[])) "
            "DELETE FROM webhook_deliveries WHERE id = ANY($1::uuid[])",
        ),
        Rule(
            "events",
            "SELECT e.id FROM events e WHERE e.created_at < $1 "
            "AND NOT EXISTS (SELECT FROM webhook_deliveries d WHERE d.event_id = e.id) "
            "ORDER BY e.created_at",
            "DELETE FROM events e WHERE e.id = ANY($1::uuid[]) "
            "AND NOT EXISTS (SELECT FROM webhook_deliveries d WHERE d.event_id = e.id)",
        ),
        Rule(
            "message_events",
            "SELECT id FROM message_events WHERE occurred_at < $1 ORDER BY id",
            "DELETE FROM message_events WHERE id = ANY($1::bigint[])",
        ),
        Rule(
            "messages",
            "SELECT id FROM messages WHERE updated_at < $1 "
            "AND status NOT IN ('SCHEDULED', 'QUEUED', 'ACCEPTED') ORDER BY updated_at",
            "WITH gone AS (DELETE FROM message_events WHERE message_id = ANY($1::uuid[])) "
            "DELETE FROM messages WHERE id = ANY($1::uuid[]) "
            "AND status NOT IN ('SCHEDULED', 'QUEUED', 'ACCEPTED')",
        ),
        Rule(
            "early_receipts",
            "SELECT id FROM early_receipts WHERE received_at < $1 ORDER BY id",
            "DELETE FROM early_receipts WHERE id = ANY($1::bigint[])",
        ),
    )
}


async def expired_ids(conn: Connection, rule: Rule, cutoff: datetime, limit: int) -> list[Any]:
    rows = await conn.fetch(f"{rule.select_sql} LIMIT {int(limit)}", cutoff)
    return [row["id"] for row in rows]


async def count_expired(conn: Connection, rule: Rule, cutoff: datetime) -> int:
    count: int = await conn.fetchval(f"SELECT count(*) FROM ({rule.select_sql}) AS expired", cutoff)
    return count


async def delete(conn: Connection, rule: Rule, ids: list[Any]) -> int:
    status: str = await conn.execute(rule.delete_sql, ids)
    return int(status.rsplit(" ", 1)[-1])
