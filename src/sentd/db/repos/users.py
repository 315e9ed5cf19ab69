"""Dashboard users of an organization, each with one role."""

from __future__ import annotations

import uuid
from typing import Any

from sentd.ids import new_id

_COLUMNS = (
    "id, organization_id, email, name, role, status, created_at, updated_at, invited_at, "
    "last_login_at"
)


async def insert(
    conn: Any, *, organization_id: uuid.UUID, email: str, name: str | None, role: str
) -> Any:
    return await conn.fetchrow(
        f"INSERT INTO users (id, organization_id, email, name, role) VALUES ($1, $2, $3, $4, $5) "
        f"RETURNING {_COLUMNS}",
        new_id(),
        organization_id,
        email,
        name,
        role,
    )


async def get_by_email(conn: Any, organization_id: uuid.UUID, email: str) -> Any:
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM users WHERE organization_id = $1 AND lower(email) = lower($2)",
        organization_id,
        email,
    )


async def get_owner(conn: Any, organization_id: uuid.UUID) -> Any:
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM users WHERE organization_id = $1 AND role = 'owner' "
        f"ORDER BY created_at LIMIT 1",
        organization_id,
    )
