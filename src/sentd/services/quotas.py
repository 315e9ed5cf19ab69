"""The one quota check every creating operation calls: past a quota → 422 `BUSINESS_008` with
`details` naming the quota, its limit and the current usage."""

from __future__ import annotations

from typing import Any

from sentd.auth.principal import Principal
from sentd.db.repos import contacts, templates, webhooks
from sentd.errors.exceptions import ApiError

# How each quota is counted: rows of the organization (and its profiles) in the key's mode. The
# SQL takes the organization id as $1 and the mode (livemode) as $2 (it may ignore it). A fixed
# table: nothing registers itself here when imported.
_USAGE_SQL: dict[str, str] = {
    "profiles": (
        "SELECT count(*) FROM customers WHERE organization_id = $1 AND kind = 'profile' "
        "AND deleted_at IS NULL"
    ),
    "contacts": contacts.USAGE_SQL,
    "templates": templates.USAGE_SQL,
    "webhooks": webhooks.USAGE_SQL,
}


async def usage(conn: Any, principal: Principal, quota: str) -> int:
    sql = _USAGE_SQL[quota]
    params: list[Any] = [principal.organization_id]
    if "$2" in sql:
        params.append(principal.livemode)
    count: int = await conn.fetchval(sql, *params)
    return count


async def check(conn: Any, principal: Principal, quota: str, adding: int = 1) -> None:
    """Raise BUSINESS_008 when `adding` more would pass the organization's `quota`."""
    limit: int = getattr(principal.limits, quota)
    # Serialise concurrent creations of one organization's resource, so two cannot both fit.
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1))", f"quota:{principal.organization_id}:{quota}"
    )
    used = await usage(conn, principal, quota)
    if used + adding > limit:
        raise ApiError(
            "BUSINESS_008",
            {quota: [f"The {quota} quota is {limit}; {used} in use, {adding} more requested"]},
        )
