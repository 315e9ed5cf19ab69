"""Idempotency records: one per (customer, mode, key)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sentd.db.scope import Scope
from sentd.db.types import Connection


async def claim(
    conn: Connection,
    scope: Scope,
    key: str,
    *,
    method: str,
    path: str,
    request_id: str,
    now: datetime,
    lease: timedelta,
    ttl: timedelta,
) -> bool:
    """Record `key` as in flight for `request_id`. True when claimed: the key was new, expired, or
    held by a request whose lease ran out. False when another request holds or completed it."""
    row = await conn.fetchrow(
        """
        INSERT INTO idempotency_keys AS i (customer_id, livemode, key, method, path, state,
            owner_request_id, lease_until, created_at, expires_at)
        VALUES ($1, $2, $3, $4, $5, 'in_flight', $6, $7, $8, $9)
        ON CONFLICT (customer_id, livemode, key) DO UPDATE
            SET method = EXCLUDED.method, path = EXCLUDED.path, state = 'in_flight',
                owner_request_id = EXCLUDED.owner_request_id,
                lease_until = EXCLUDED.lease_until, created_at = EXCLUDED.created_at,
                expires_at = EXCLUDED.expires_at, response_status = NULL,
                response_headers = NULL, response_body = NULL
            WHERE i.expires_at <= $8 OR (i.state = 'in_flight' AND i.lease_until <= $8)
        RETURNING 1
        """,
        *scope.params(),
        key,
        method,
        path,
        request_id,
        now + lease,
        now,
        now + ttl,
    )
    return row is not None


async def get(conn: Connection, scope: Scope, key: str) -> Any:
    return await conn.fetchrow(
        "SELECT method, path, state, owner_request_id, response_status, response_headers, "
        "response_body, expires_at FROM idempotency_keys "
        "WHERE customer_id = $1 AND livemode = $2 AND key = $3",
        *scope.params(),
        key,
    )


async def complete(
    conn: Connection,
    scope: Scope,
    key: str,
    *,
    request_id: str,
    status: int,
    headers: dict[str, str],
    body: bytes,
) -> bool:
    """Store the response of the request that holds the key. False when it no longer holds it."""
    result: str = await conn.execute(
        "UPDATE idempotency_keys SET state = 'completed', response_status = $5, "
        "response_headers = $6, response_body = $7 "
        "WHERE customer_id = $1 AND livemode = $2 AND key = $3 AND owner_request_id = $4 "
        "AND state = 'in_flight'",
        *scope.params(),
        key,
        request_id,
        status,
        headers,
        body,
    )
    return result == "UPDATE 1"


async def release(conn: Connection, scope: Scope, key: str, *, request_id: str) -> None:
    """Forget an in-flight claim whose request ended without a stored result."""
    await conn.execute(
        "DELETE FROM idempotency_keys WHERE customer_id = $1 AND livemode = $2 AND key = $3 "
        "AND owner_request_id = $4 AND state = 'in_flight'",
        *scope.params(),
        key,
        request_id,
    )


async def delete_expired(conn: Connection, now: datetime) -> int:
    result: str = await conn.execute("DELETE FROM idempotency_keys WHERE expires_at <= $1", now)
    return int(result.split()[-1])
