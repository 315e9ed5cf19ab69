"""API keys, stored as SHA-256 digests."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sentd.db.types import Connection
from sentd.ids import new_id

# NOTIFY channel: an organization's plan or limits changed (payload: the organization's id).
LIMITS_CHANNEL = "sentd_limits_changed"

_COLUMNS = (
    "k.id, k.customer_id, k.user_id, k.livemode, k.name, k.prefix, k.created_at, k.expires_at, "
    "k.revoked_at, k.last_used_at"
)


async def insert(
    conn: Connection,
    *,
    customer_id: uuid.UUID,
    user_id: uuid.UUID,
    livemode: bool,
    prefix: str,
    digest: bytes,
    name: str | None,
    expires_at: datetime | None,
) -> Any:
    return await conn.fetchrow(
        f"INSERT INTO api_keys AS k (id, customer_id, user_id, livemode, name, prefix, key_hash, "
        f"expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {_COLUMNS}",
        new_id(),
        customer_id,
        user_id,
        livemode,
        name,
        prefix,
        digest,
        expires_at,
    )


async def touch_active(conn: Connection, digest: bytes) -> Any:
    """Mark the usable key with this digest as used now and return what authentication needs.

    None when no key has the digest, or it is revoked or expired, or its customer or user is gone,
    or its organization is suspended.
    """
    return await conn.fetchrow(
        """
        UPDATE api_keys AS k SET last_used_at = now()
        FROM users AS u, customers AS c, customers AS o
        WHERE k.key_hash = $1 AND u.id = k.user_id AND c.id = k.customer_id
          AND o.id = COALESCE(c.organization_id, c.id)
          AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
          AND c.deleted_at IS NULL AND o.deleted_at IS NULL AND o.suspended_at IS NULL
          AND u.status = 'active' AND u.removed_at IS NULL
        RETURNING k.id, k.user_id, k.livemode, k.expires_at, k.customer_id, u.role,
                  c.kind AS customer_kind, o.id AS organization_id,
                  o.plan AS plan, o.limits AS limit_overrides
        """,
        digest,
    )


async def list_all(conn: Connection, customer_id: uuid.UUID | None = None) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        f"SELECT {_COLUMNS}, u.email AS user_email "
        f"FROM api_keys k JOIN users u ON u.id = k.user_id "
        f"WHERE $1::uuid IS NULL OR k.customer_id = $1 ORDER BY k.created_at, k.id",
        customer_id,
    )
    return rows


async def revoke(
    conn: Connection,
    *,
    key_id: uuid.UUID | None = None,
    digest: bytes | None = None,
    customer_id: uuid.UUID | None = None,
) -> Any:
    """Revoke by id or by digest (only a key of `customer_id`, when given); return the key, or
    None when there is none."""
    return await conn.fetchrow(
        f"UPDATE api_keys AS k SET revoked_at = COALESCE(k.revoked_at, now()) "
        f"WHERE (k.id = $1 OR k.key_hash = $2) AND ($3::uuid IS NULL OR k.customer_id = $3) "
        f"RETURNING {_COLUMNS}, k.key_hash",
        key_id,
        digest,
        customer_id,
    )


async def revoke_all(
    conn: Connection, *, customer_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None
) -> list[bytes]:
    """Revoke every active key of a customer, or issued to a user; return their digests."""
    assert (customer_id is None) != (user_id is None)
    rows = await conn.fetch(
        "UPDATE api_keys SET revoked_at = now() WHERE revoked_at IS NULL "
        "AND (customer_id = $1 OR user_id = $2) RETURNING key_hash",
        customer_id,
        user_id,
    )
    return [bytes(r["key_hash"]) for r in rows]


async def active_digests_of_user(conn: Connection, user_id: uuid.UUID) -> list[bytes]:
    rows = await conn.fetch(
        "SELECT key_hash FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL", user_id
    )
    return [bytes(r["key_hash"]) for r in rows]


async def notify_revoked(conn: Connection, digests: list[bytes]) -> None:
    """Tell every API process to drop these keys from its authentication cache. The NOTIFY is
    delivered when the transaction commits, so a rolled-back change notifies nobody."""
    for digest in digests:
        await conn.execute("SELECT pg_notify('sentd_key_revoked', $1)", digest.hex())


async def notify_limits_changed(conn: Connection, organization_id: uuid.UUID) -> None:
    """Tell every API process to drop the cached keys of this organization (and its profiles),
    whose principals carry the old plan and limits. Delivered when the transaction commits."""
    await conn.execute("SELECT pg_notify($1, $2)", LIMITS_CHANNEL, str(organization_id))


async def active_digests_of_organization(
    conn: Connection, organization_id: uuid.UUID
) -> list[bytes]:
    """Digests of the unrevoked keys of an organization and of its profiles."""
    rows = await conn.fetch(
        "SELECT k.key_hash FROM api_keys k JOIN customers c ON c.id = k.customer_id "
        "WHERE COALESCE(c.organization_id, c.id) = $1 AND k.revoked_at IS NULL",
        organization_id,
    )
    return [bytes(r["key_hash"]) for r in rows]


async def is_suspended_key(conn: Connection, digest: bytes) -> bool:
    """Whether the key with this digest would authenticate but for its organization being
    suspended (asked only after `touch_active` found nothing)."""
    found: bool = await conn.fetchval(
        """
        SELECT EXISTS (
            SELECT 1 FROM api_keys AS k
            JOIN users AS u ON u.id = k.user_id
            JOIN customers AS c ON c.id = k.customer_id
            JOIN customers AS o ON o.id = COALESCE(c.organization_id, c.id)
            WHERE k.key_hash = $1 AND o.suspended_at IS NOT NULL
              AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
              AND c.deleted_at IS NULL AND o.deleted_at IS NULL
              AND u.status = 'active' AND u.removed_at IS NULL
        )
        """,
        digest,
    )
    return found
