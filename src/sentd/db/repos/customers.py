"""Organizations and sender profiles: both are customers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sentd.db.types import Connection, Record
from sentd.ids import new_id

_COLUMNS = (
    "id, kind, organization_id, name, email, icon, description, short_name, status, settings, "
    "created_at, updated_at"
)


@dataclass(frozen=True, slots=True)
class Customer:
    """An organization or a sender profile (`kind`), as its lookups return it (`_COLUMNS`)."""

    id: uuid.UUID
    kind: str  # 'organization' | 'profile'
    organization_id: uuid.UUID | None  # None for an organization
    name: str
    email: str | None
    icon: str | None
    description: str | None
    short_name: str | None
    status: str | None
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @property
    def is_organization(self) -> bool:
        return self.kind == "organization"

    @property
    def organization(self) -> uuid.UUID:
        """The organization it belongs to: itself for an organization."""
        return self.organization_id or self.id


def _customer(row: Record | None) -> Customer | None:
    return None if row is None else Customer(**dict(row.items()))


async def insert_organization(conn: Connection, *, name: str, email: str | None) -> Customer:
    row = await conn.fetchrow(
        f"INSERT INTO customers (id, kind, name, email) VALUES ($1, 'organization', $2, $3) "
        f"RETURNING {_COLUMNS}",
        new_id(),
        name,
        email,
    )
    assert row is not None
    return Customer(**dict(row.items()))


async def insert_profile(
    conn: Connection,
    *,
    organization_id: uuid.UUID,
    name: str,
    short_name: str | None = None,
    description: str | None = None,
    settings: dict[str, Any] | None = None,
) -> Any:
    return await conn.fetchrow(
        f"INSERT INTO customers (id, kind, organization_id, name, short_name, description, "
        f"status, settings) VALUES ($1, 'profile', $2, $3, $4, $5, 'incomplete', $6) "
        f"RETURNING {_COLUMNS}",
        new_id(),
        organization_id,
        name,
        short_name,
        description,
        settings or {},
    )


async def get(conn: Connection, customer_id: uuid.UUID) -> Customer | None:
    return _customer(
        await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM customers WHERE id = $1 AND deleted_at IS NULL", customer_id
        )
    )


async def get_profile_of(
    conn: Connection, organization_id: uuid.UUID, profile_id: uuid.UUID
) -> Customer | None:
    return _customer(
        await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM customers WHERE id = $1 AND organization_id = $2 "
            f"AND kind = 'profile' AND deleted_at IS NULL",
            profile_id,
            organization_id,
        )
    )


async def list_profiles(conn: Connection, organization_id: uuid.UUID) -> list[Customer]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM customers WHERE organization_id = $1 AND kind = 'profile' "
        f"AND deleted_at IS NULL ORDER BY created_at, id",
        organization_id,
    )
    return [Customer(**dict(row.items())) for row in rows]


async def list_organizations(conn: Connection) -> list[Customer]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM customers WHERE kind = 'organization' AND deleted_at IS NULL "
        f"ORDER BY created_at, id"
    )
    return [Customer(**dict(row.items())) for row in rows]


async def set_plan(conn: Connection, organization_id: uuid.UUID, plan: str) -> Customer | None:
    return _customer(
        await conn.fetchrow(
            f"UPDATE customers SET plan = $2, updated_at = now() WHERE id = $1 "
            f"RETURNING {_COLUMNS}",
            organization_id,
            plan,
        )
    )


async def set_suspended(conn: Connection, organization_id: uuid.UUID, suspended: bool) -> Any:
    """Suspend (keeping the first time) or resume an organization; None when there is no such
    organization. Returns `id, suspended_at, changed` (whether this call changed anything)."""
    return await conn.fetchrow(
        """
        UPDATE customers AS c
        SET suspended_at = CASE WHEN $2 THEN COALESCE(c.suspended_at, now()) END,
            updated_at = CASE WHEN (c.suspended_at IS NOT NULL) = $2 THEN c.updated_at
                              ELSE now() END
        FROM customers AS before
        WHERE c.id = $1 AND before.id = c.id AND c.kind = 'organization' AND c.deleted_at IS NULL
        RETURNING c.id, c.suspended_at, (before.suspended_at IS NOT NULL) <> $2 AS changed
        """,
        organization_id,
        suspended,
    )


async def organization_summaries(
    conn: Connection, organization_id: uuid.UUID | None = None
) -> list[Any]:
    """Organizations (one, or all, oldest first) as the operator sees them: plan, suspension,
    owner, and how many profiles, members and active keys each has."""
    rows: list[Any] = await conn.fetch(
        """
        SELECT o.id, o.name, o.email, o.plan, o.limits, o.suspended_at, o.created_at,
               o.updated_at,
               (SELECT u.email FROM users u WHERE u.organization_id = o.id AND u.role = 'owner'
                ORDER BY u.created_at LIMIT 1) AS owner_email,
               (SELECT count(*) FROM customers p WHERE p.organization_id = o.id
                AND p.deleted_at IS NULL) AS profiles,
               (SELECT count(*) FROM users u WHERE u.organization_id = o.id
                AND u.removed_at IS NULL AND u.role <> 'owner') AS members,
               (SELECT count(*) FROM api_keys k JOIN customers kc ON kc.id = k.customer_id
                WHERE COALESCE(kc.organization_id, kc.id) = o.id AND k.revoked_at IS NULL
                AND (k.expires_at IS NULL OR k.expires_at > now())) AS active_keys
        FROM customers o
        WHERE o.kind = 'organization' AND o.deleted_at IS NULL
          AND ($1::uuid IS NULL OR o.id = $1)
        ORDER BY o.created_at, o.id
        """,
        organization_id,
    )
    return rows


async def organization_of(conn: Connection, customer_id: uuid.UUID) -> uuid.UUID:
    """The organization a customer belongs to (itself for an organization), deleted or not
    (rows are never removed, so a message's customer is always found)."""
    organization_id: uuid.UUID | None = await conn.fetchval(
        "SELECT COALESCE(organization_id, id) FROM customers WHERE id = $1", customer_id
    )
    if organization_id is None:
        raise LookupError(f"no customer {customer_id}")
    return organization_id


@dataclass(frozen=True, slots=True)
class Senders:
    """What a customer's messages are sent from (when the message names no number itself)."""

    id: uuid.UUID
    whatsapp_account: dict[str, Any] | None
    sending_phone_number: str | None
    whatsapp_phone_number: str | None


async def senders_many(conn: Connection, customer_ids: list[uuid.UUID]) -> list[Senders]:
    """What the dispatcher sends these customers' messages from (deleted customers included:
    their messages already accepted are still sent)."""
    rows = await conn.fetch(
        "SELECT id, whatsapp_account, sending_phone_number, whatsapp_phone_number "
        "FROM customers WHERE id = ANY($1::uuid[])",
        customer_ids,
    )
    return [Senders(**dict(row.items())) for row in rows]


async def sole_organization(conn: Connection) -> Any:
    """`id, organization_id` (the same) of the only organization, or None when there are none or
    several."""
    rows = await conn.fetch(
        "SELECT id, id AS organization_id FROM customers WHERE kind = 'organization' "
        "AND deleted_at IS NULL LIMIT 2"
    )
    return rows[0] if len(rows) == 1 else None


async def find_organization_by_email(conn: Connection, email: str) -> Any:
    """The oldest organization with this email (`id`), or None."""
    return await conn.fetchrow(
        "SELECT id FROM customers WHERE kind = 'organization' AND deleted_at IS NULL "
        "AND email = $1 ORDER BY created_at LIMIT 1",
        email,
    )


async def lock_named(conn: Connection, name: str) -> None:
    """Serialise, until the end of the transaction, every caller that takes the lock `name` (an
    advisory lock: it locks no row)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", name)


async def lock_plan_of(conn: Connection, customer_id: uuid.UUID) -> Any:
    """The organization of a customer (itself for an organization) with its `plan` and `limits`,
    locked for an update; None when there is no such customer."""
    return await conn.fetchrow(
        "SELECT o.id, o.plan, o.limits FROM customers c "
        "JOIN customers o ON o.id = COALESCE(c.organization_id, c.id) "
        "WHERE c.id = $1 AND c.deleted_at IS NULL FOR UPDATE OF o",
        customer_id,
    )


async def set_plan_and_limits(
    conn: Connection, organization_id: uuid.UUID, plan: str, limits: dict[str, Any]
) -> Any:
    """Set an organization's plan and its limit overrides; returns `id, plan, limits`."""
    return await conn.fetchrow(
        "UPDATE customers SET plan = $2, limits = $3, updated_at = now() WHERE id = $1 "
        "RETURNING id, plan, limits",
        organization_id,
        plan,
        limits,
    )


PROFILES_USAGE_SQL = (
    "SELECT count(*) FROM customers WHERE organization_id = $1 AND kind = 'profile' "
    "AND deleted_at IS NULL"
)
