"""Balances (one per customer and mode) and the ledger that explains every change."""

from __future__ import annotations

from typing import Any

from sentd.db.scope import Scope
from sentd.db.types import Connection
from sentd.ids import new_id


async def get(conn: Connection, scope: Scope) -> Any:
    return await conn.fetchrow(
        "SELECT amount_micros, currency FROM balances WHERE customer_id = $1 AND livemode = $2",
        *scope.params(),
    )


async def apply(
    conn: Connection,
    scope: Scope,
    *,
    amount_micros: int,
    currency: str,
    reason: str,
    reference: str | None,
) -> Any:
    """Add `amount_micros` (negative to debit) and write the ledger row, in the caller's
    transaction. Returns the new balance row, or None when a debit would go below zero."""
    if amount_micros >= 0:
        row = await conn.fetchrow(
            """
            INSERT INTO balances AS b (customer_id, livemode, amount_micros, currency)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT (customer_id, livemode) DO UPDATE
                SET amount_micros = b.amount_micros + EXCLUDED.amount_micros, updated_at = now()
            RETURNING amount_micros, currency
            """,
            *scope.params(),
            amount_micros,
            currency,
        )
    else:
        row = await conn.fetchrow(
            "UPDATE balances SET amount_micros = amount_micros + $3, updated_at = now() "
            "WHERE customer_id = $1 AND livemode = $2 AND amount_micros + $3 >= 0 "
            "RETURNING amount_micros, currency",
            *scope.params(),
            amount_micros,
        )
        if row is None:
            return None
    assert row is not None  # an upsert always returns its row
    await conn.execute(
        "INSERT INTO ledger_entries (id, customer_id, livemode, amount_micros, "
        "balance_after_micros, reason, reference) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        new_id(),
        *scope.params(),
        amount_micros,
        row["amount_micros"],
        reason,
        reference,
    )
    return row
