"""Voice numbers: which numbers carry a customer's calls, their callback URL and secret."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sentd.db.scope import Scope
from sentd.db.types import Connection
from sentd.ids import new_id

COLUMNS = (
    "id, customer_id, livemode, number, status, default_for_app_calls, callback_url, "
    "callback_secret, provider, provider_ref, created_at, updated_at"
)
_MINE = "customer_id = $1 AND livemode = $2"


async def get(conn: Connection, scope: Scope, number: str, *, lock: bool = False) -> Any:
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM voice_numbers WHERE {_MINE} AND number = $3"
        + (" FOR UPDATE" if lock else ""),
        *scope.params(),
        number,
    )


async def holder(conn: Connection, livemode: bool, number: str) -> Any:
    """The row of whoever holds `number` in this mode (inbound calls are routed by it)."""
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM voice_numbers WHERE livemode = $1 AND number = $2",
        livemode,
        number,
    )


async def all_of(conn: Connection, scope: Scope) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        f"SELECT {COLUMNS} FROM voice_numbers WHERE {_MINE} ORDER BY created_at, id",
        *scope.params(),
    )
    return rows


async def lock_all(conn: Connection, scope: Scope) -> list[Any]:
    """Every number of the customer, locked: the default-line rules read them all."""
    rows: list[Any] = await conn.fetch(
        f"SELECT {COLUMNS} FROM voice_numbers WHERE {_MINE} ORDER BY created_at, id FOR UPDATE",
        *scope.params(),
    )
    return rows


async def default_line(conn: Connection, scope: Scope) -> Any:
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM voice_numbers WHERE {_MINE} AND default_for_app_calls",
        *scope.params(),
    )


async def insert(
    conn: Connection,
    scope: Scope,
    *,
    number: str,
    callback_url: str | None,
    callback_secret: str,
    provider: str,
    provider_ref: str | None,
    now: datetime,
) -> Any:
    """The new row, or None when the number is already held by anyone in this mode."""
    return await conn.fetchrow(
        f"""
        INSERT INTO voice_numbers (id, customer_id, livemode, number, status, callback_url,
            callback_secret, provider, provider_ref, created_at, updated_at)
        VALUES ($3, $1, $2, $4, 'ACTIVE', $5, $6, $7, $8, $9, $9)
        ON CONFLICT (livemode, number) DO NOTHING
        RETURNING {COLUMNS}
        """,
        *scope.params(),
        new_id(),
        number,
        callback_url,
        callback_secret,
        provider,
        provider_ref,
        now,
    )


_UPDATABLE = frozenset({"status", "default_for_app_calls", "callback_url", "callback_secret"})


async def update(
    conn: Connection, scope: Scope, number: str, values: dict[str, Any], now: datetime
) -> Any:
    assert values and set(values) <= _UPDATABLE
    names = sorted(values)
    sets = ", ".join(f"{name} = ${i + 4}" for i, name in enumerate(names))
    return await conn.fetchrow(
        f"UPDATE voice_numbers SET {sets}, updated_at = ${len(names) + 4} "
        f"WHERE {_MINE} AND number = $3 RETURNING {COLUMNS}",
        *scope.params(),
        number,
        *(values[name] for name in names),
        now,
    )


async def clear_default(conn: Connection, scope: Scope, now: datetime) -> None:
    await conn.execute(
        f"UPDATE voice_numbers SET default_for_app_calls = false, updated_at = $3 "
        f"WHERE {_MINE} AND default_for_app_calls",
        *scope.params(),
        now,
    )


async def lock_customer(conn: Connection, scope: Scope) -> None:
    """Serialize the voice-number changes of one customer and mode (the default-line rules span
    all its numbers, including ones being inserted)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock("
        "hashtextextended('voice:' || $1::uuid::text || $2::boolean::text, 0))",
        *scope.params(),
    )


async def bind_identity(
    conn: Connection, scope: Scope, identity: str, number: str, now: datetime
) -> None:
    """Calls placed by `identity` go through `number` from now on (minting again re-binds)."""
    await conn.execute(
        """
        INSERT INTO voice_identities (customer_id, livemode, identity, number, updated_at)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (customer_id, livemode, identity)
            DO UPDATE SET number = EXCLUDED.number, updated_at = EXCLUDED.updated_at
        """,
        *scope.params(),
        identity,
        number,
        now,
    )


async def bound_number(conn: Connection, scope: Scope, identity: str) -> str | None:
    number: str | None = await conn.fetchval(
        "SELECT number FROM voice_identities WHERE customer_id = $1 AND livemode = $2 "
        "AND identity = $3",
        *scope.params(),
        identity,
    )
    return number


async def store_token(
    conn: Connection, scope: Scope, digest: bytes, identity: str, number: str, expires_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO voice_tokens (digest, customer_id, livemode, identity, number, expires_at) "
        "VALUES ($3, $1, $2, $4, $5, $6)",
        *scope.params(),
        digest,
        identity,
        number,
        expires_at,
    )


async def token(conn: Connection, digest: bytes, now: datetime) -> Any:
    """The unexpired simulator token with this digest, or None."""
    return await conn.fetchrow(
        "SELECT customer_id, livemode, identity, number, expires_at FROM voice_tokens "
        "WHERE digest = $1 AND expires_at > $2",
        digest,
        now,
    )
