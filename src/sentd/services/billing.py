"""Balances: credit from the CLI (and later the dashboard); debits come with sends."""

from __future__ import annotations

from collections.abc import Mapping
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


def funding_scopes(customer: customers.Customer | Mapping[str, Any], livemode: bool) -> list[Scope]:
    """Whose balances pay for a customer's messages, in the order to draw on them: an
    organization pays for itself; a profile by its billing model — `profile` (its own balance),
    `organization` (its organization's), `profile_and_organization` (its own first, then the
    organization's). The send path passes the columns it read itself as a mapping."""
    if not isinstance(customer, customers.Customer):
        kind, id_, organization_id, settings = (
            customer["kind"],
            customer["id"],
            customer["organization_id"],
            customer["settings"],
        )
    else:
        kind, id_, organization_id = customer.kind, customer.id, customer.organization_id
        settings = customer.settings
    if kind == "organization" or organization_id is None:
        return [Scope(id_, livemode)]
    own, parent = Scope(id_, livemode), Scope(organization_id, livemode)
    model = (settings or {}).get("billing_model", "profile")
    if model == "organization":
        return [parent]
    if model == "profile_and_organization":
        return [own, parent]
    return [own]
