"""Sending numbers and the one customer that claimed each (`sending_numbers`)."""

from __future__ import annotations

import uuid
from typing import Any

from sentd.db.types import Connection


async def claim(
    conn: Connection, customer_id: uuid.UUID, numbers: list[str]
) -> dict[str, uuid.UUID]:
    """Claim `numbers` for the customer where nobody holds them; returns each number's owner.

    A claim another transaction is making waits for it to end (the primary key), so of two racing
    claims exactly one wins. Numbers are claimed in sorted order: two customers claiming the same
    two numbers cannot deadlock."""
    await conn.execute(
        "INSERT INTO sending_numbers (phone_number, customer_id) "
        "SELECT n, $1 FROM unnest($2::text[]) AS n ORDER BY n "
        "ON CONFLICT (phone_number) DO NOTHING",
        customer_id,
        sorted(set(numbers)),
    )
    rows = await conn.fetch(
        "SELECT phone_number, customer_id FROM sending_numbers "
        "WHERE phone_number = ANY($1::text[])",
        numbers,
    )
    return {row["phone_number"]: row["customer_id"] for row in rows}


async def release_others(conn: Connection, customer_id: uuid.UUID, keep: list[str]) -> None:
    """Release the customer's claims on every number but `keep`."""
    await conn.execute(
        "DELETE FROM sending_numbers WHERE customer_id = $1 AND phone_number <> ALL($2::text[])",
        customer_id,
        keep,
    )


async def owner(conn: Connection, phone_number: str) -> Any:
    """The customer (not deleted) that claimed the number: `id`, `organization_id`; or None."""
    return await conn.fetchrow(
        "SELECT c.id, COALESCE(c.organization_id, c.id) AS organization_id "
        "FROM sending_numbers n JOIN customers c ON c.id = n.customer_id "
        "WHERE n.phone_number = $1 AND c.deleted_at IS NULL",
        phone_number,
    )
