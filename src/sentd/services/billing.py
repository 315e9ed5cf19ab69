"""Balances: credit from the CLI (and later the dashboard); debits come with sends."""

from __future__ import annotations

from typing import Any

from sentd.db.database import Database
from sentd.db.repos import balances, customers
from sentd.db.scope import Scope


class UnknownCustomer(Exception):
    pass


async def credit(
    db: Database, scope: Scope, amount_micros: int, *, currency: str, reference: str | None
) -> Any:
    async with db.transaction() as conn:
        if await customers.get(conn, scope.customer_id) is None:
            raise UnknownCustomer(str(scope.customer_id))
        return await balances.apply(
            conn,
            scope,
            amount_micros=amount_micros,
            currency=currency,
            reason="credit",
            reference=reference,
        )
