"""Organizations and sender profiles: both are customers."""

from __future__ import annotations

import uuid
from typing import Any

from sentd.ids import new_id

_COLUMNS = (
    "id, kind, organization_id, name, email, icon, description, short_name, status, settings, "
    "created_at, updated_at"
)


async def insert_organization(conn: Any, *, name: str, email: str | None) -> Any:
    return await conn.fetchrow(
        f"INSERT INTO customers (id, kind, name, email) VALUES ($1, 'organization', $2, $3) "
        f"RETURNING {_COLUMNS}",
        new_id(),
        name,
        email,
    )


async def insert_profile(
    conn: Any,
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


async def get(conn: Any, customer_id: uuid.UUID) -> Any:
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM customers WHERE id = $1 AND deleted_at IS NULL", customer_id
    )


async def get_profile_of(conn: Any, organization_id: uuid.UUID, profile_id: uuid.UUID) -> Any:
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM customers WHERE id = $1 AND organization_id = $2 "
        f"AND kind = 'profile' AND deleted_at IS NULL",
        profile_id,
        organization_id,
    )


async def list_profiles(conn: Any, organization_id: uuid.UUID) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        f"SELECT {_COLUMNS} FROM customers WHERE organization_id = $1 AND kind = 'profile' "
        f"AND deleted_at IS NULL ORDER BY created_at, id",
        organization_id,
    )
    return rows


async def list_organizations(conn: Any) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        f"SELECT {_COLUMNS} FROM customers WHERE kind = 'organization' AND deleted_at IS NULL "
        f"ORDER BY created_at, id"
    )
    return rows
