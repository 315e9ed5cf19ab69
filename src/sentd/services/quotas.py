"""The one quota check every creating operation calls: past a quota → 422 `BUSINESS_008` with
`details` naming the quota, its limit and the current usage. How each quota is counted is
`db.repos.quotas`."""

from __future__ import annotations

from sentd.auth.principal import Principal
from sentd.db.repos import quotas
from sentd.db.types import Connection
from sentd.errors.exceptions import ApiError


async def usage(conn: Connection, principal: Principal, quota: str) -> int:
    return await quotas.usage(conn, quota, principal.organization_id, principal.livemode)


async def check(conn: Connection, principal: Principal, quota: str, adding: int = 1) -> None:
    """Raise BUSINESS_008 when `adding` more would pass the organization's `quota`."""
    limit: int = getattr(principal.limits, quota)
    # Serialise concurrent creations of one organization's resource, so two cannot both fit.
    await quotas.lock(conn, quota, principal.organization_id)
    used = await usage(conn, principal, quota)
    if used + adding > limit:
        raise ApiError(
            "BUSINESS_008",
            {quota: [f"The {quota} quota is {limit}; {used} in use, {adding} more requested"]},
        )
