"""Provider receipts that arrived before the dispatcher recorded their message as sent (a
provider can answer faster than the SENT commit); applied, in arrival order, once it is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sentd.db.types import Connection


async def keep(
    conn: Connection,
    *,
    provider: str,
    provider_message_id: str,
    status: str,
    reason_code: str | None,
    reason: str | None,
    received_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO early_receipts (provider, provider_message_id, status, reason_code, "
        "reason, received_at) VALUES ($1, $2, $3, $4, $5, $6)",
        provider,
        provider_message_id,
        status,
        reason_code,
        reason,
        received_at,
    )


async def take_many(conn: Connection, keys: list[tuple[str, str]]) -> list[Any]:
    """Delete and return the receipts kept for these `(provider, provider_message_id)` pairs, in
    arrival order: `id, provider, provider_message_id, status, reason_code, reason`."""
    if not keys:
        return []
    rows = await conn.fetch(
        "DELETE FROM early_receipts e USING unnest($1::text[], $2::text[]) AS k(provider, id) "
        "WHERE e.provider = k.provider AND e.provider_message_id = k.id "
        "RETURNING e.id, e.provider, e.provider_message_id, e.status, e.reason_code, e.reason",
        [provider for provider, _ in keys],
        [provider_message_id for _, provider_message_id in keys],
    )
    return sorted(rows, key=lambda r: r["id"])
