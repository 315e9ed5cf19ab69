"""How each quota of an organization is counted: its rows (and its profiles') that count against
it, in the key's mode where the resource has one. `services.quotas` compares them to the limits."""

from __future__ import annotations

import uuid
from typing import Any

from sentd.db.repos import contacts, customers, templates, webhooks
from sentd.db.types import Connection

# Each statement takes the organization's id as $1 and, when it uses it, the mode as $2.
_USAGE_SQL: dict[str, str] = {
    "profiles": customers.PROFILES_USAGE_SQL,
    "contacts": contacts.USAGE_SQL,
    "templates": templates.USAGE_SQL,
    "webhooks": webhooks.USAGE_SQL,
}
QUOTAS = frozenset(_USAGE_SQL)


async def usage(conn: Connection, quota: str, organization_id: uuid.UUID, livemode: bool) -> int:
    """How much of `quota` the organization uses (KeyError for an unknown quota)."""
    sql = _USAGE_SQL[quota]
    params: list[Any] = [organization_id]
    if "$2" in sql:
        params.append(livemode)
    count: int = await conn.fetchval(sql, *params)
    return count


async def lock(conn: Connection, quota: str, organization_id: uuid.UUID) -> None:
    """Serialise, until the end of the transaction, the creations of one organization that count
    against `quota`, so that two cannot both fit in its last place."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1))", f"quota:{organization_id}:{quota}"
    )
