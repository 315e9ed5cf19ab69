"""Dashboard users of an organization, each with one role.

A *member* is a user the API shows: not the owner (implicit, never listed) and not removed.
Removal is soft (`removed_at`); a pending invitation keeps only its token's SHA-256 (see
docs/users.md).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sentd.db.types import Connection
from sentd.ids import new_id

_COLUMNS = (
    "id, organization_id, email, name, role, status, created_at, updated_at, invited_at, "
    "last_login_at"
)
_INVITATION_COLUMNS = (
    f"{_COLUMNS}, invitation_expires_at, removed_at, "
    "(SELECT c.name FROM customers c WHERE c.id = users.organization_id) AS organization_name"
)
_MEMBER = "role <> 'owner' AND removed_at IS NULL"


async def insert(
    conn: Connection, *, organization_id: uuid.UUID, email: str, name: str | None, role: str
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


async def get_by_email(conn: Connection, organization_id: uuid.UUID, email: str) -> Any:
    """The organization's user with this email (any case); removed users are not found."""
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM users WHERE organization_id = $1 AND lower(email) = lower($2) "
        f"AND removed_at IS NULL",
        organization_id,
        email,
    )


async def get_owner(conn: Connection, organization_id: uuid.UUID) -> Any:
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM users WHERE organization_id = $1 AND role = 'owner' "
        f"ORDER BY created_at LIMIT 1",
        organization_id,
    )


async def lock_organization(conn: Connection, organization_id: uuid.UUID) -> None:
    """Serialize user management within one organization until the transaction ends, so that
    two concurrent requests cannot both pass the last-admin rule or both insert one email."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext('sentd.users'), hashtext($1::text))",
        str(organization_id),
    )


async def get_member(conn: Connection, organization_id: uuid.UUID, user_id: uuid.UUID) -> Any:
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM users WHERE id = $1 AND organization_id = $2 AND {_MEMBER}",
        user_id,
        organization_id,
    )


async def list_members(
    conn: Connection, organization_id: uuid.UUID, *, limit: int, offset: int
) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        f"SELECT {_COLUMNS} FROM users WHERE organization_id = $1 AND {_MEMBER} "
        f"ORDER BY created_at, id LIMIT $2 OFFSET $3",
        organization_id,
        limit,
        offset,
    )
    return rows


async def count_members(conn: Connection, organization_id: uuid.UUID) -> int:
    count: int = await conn.fetchval(
        f"SELECT count(*) FROM users WHERE organization_id = $1 AND {_MEMBER}", organization_id
    )
    return count


async def count_active_admins(conn: Connection, organization_id: uuid.UUID) -> int:
    count: int = await conn.fetchval(
        f"SELECT count(*) FROM users WHERE organization_id = $1 AND {_MEMBER} "
        f"AND role = 'admin' AND status = 'active'",
        organization_id,
    )
    return count


async def get_any_by_email(conn: Connection, organization_id: uuid.UUID, email: str) -> Any:
    """The organization's user with this email (any case), removed or not."""
    return await conn.fetchrow(
        f"SELECT {_COLUMNS}, removed_at FROM users "
        f"WHERE organization_id = $1 AND lower(email) = lower($2)",
        organization_id,
        email,
    )


async def insert_invited(
    conn: Connection,
    *,
    organization_id: uuid.UUID,
    email: str,
    name: str | None,
    role: str,
    token_hash: bytes,
    invited_at: datetime,
    expires_at: datetime,
) -> Any:
    return await conn.fetchrow(
        f"INSERT INTO users (id, organization_id, email, name, role, status, invited_at, "
        f"invitation_token_hash, invitation_expires_at) "
        f"VALUES ($1, $2, $3, $4, $5, 'invited', $6, $7, $8) RETURNING {_COLUMNS}",
        new_id(),
        organization_id,
        email,
        name,
        role,
        invited_at,
        token_hash,
        expires_at,
    )


async def reinvite(
    conn: Connection,
    user_id: uuid.UUID,
    *,
    name: str | None,
    role: str,
    token_hash: bytes,
    invited_at: datetime,
    expires_at: datetime,
) -> Any:
    """A new invitation for an invited or removed user: new token, role, and (if given) name."""
    return await conn.fetchrow(
        f"UPDATE users SET status = 'invited', removed_at = NULL, role = $2, "
        f"name = COALESCE($3, name), invited_at = $4, "
        f"invitation_token_hash = $5, invitation_expires_at = $6, updated_at = now() "
        f"WHERE id = $1 RETURNING {_COLUMNS}",
        user_id,
        role,
        name,
        invited_at,
        token_hash,
        expires_at,
    )


async def set_role(conn: Connection, user_id: uuid.UUID, role: str) -> Any:
    return await conn.fetchrow(
        f"UPDATE users SET role = $2, updated_at = now() WHERE id = $1 RETURNING {_COLUMNS}",
        user_id,
        role,
    )


async def mark_removed(conn: Connection, user_id: uuid.UUID) -> Any:
    """Soft-remove a user; a pending invitation dies with it."""
    return await conn.fetchrow(
        f"UPDATE users SET removed_at = now(), updated_at = now(), "
        f"invitation_token_hash = NULL, invitation_expires_at = NULL "
        f"WHERE id = $1 RETURNING {_COLUMNS}",
        user_id,
    )


async def get_by_invitation(conn: Connection, token_hash: bytes) -> Any:
    """The user holding the invitation with this token digest (expired or not)."""
    return await conn.fetchrow(
        f"SELECT {_INVITATION_COLUMNS} FROM users WHERE invitation_token_hash = $1 FOR UPDATE",
        token_hash,
    )


async def activate(conn: Connection, user_id: uuid.UUID) -> Any:
    """Accept an invitation: the user becomes active and the token is forgotten."""
    return await conn.fetchrow(
        f"UPDATE users SET status = 'active', "
        f"invitation_token_hash = NULL, invitation_expires_at = NULL, updated_at = now() "
        f"WHERE id = $1 AND status = 'invited' RETURNING {_COLUMNS}",
        user_id,
    )


async def pending_invitations(
    conn: Connection, organization_id: uuid.UUID | None = None
) -> list[Any]:
    """Invitations not yet accepted (expired ones included), oldest first."""
    rows: list[Any] = await conn.fetch(
        f"SELECT {_INVITATION_COLUMNS} FROM users "
        f"WHERE status = 'invited' AND removed_at IS NULL AND invitation_token_hash IS NOT NULL "
        f"AND ($1::uuid IS NULL OR organization_id = $1) ORDER BY invited_at, id",
        organization_id,
    )
    return rows


async def pending_by_email(
    conn: Connection, email: str, organization_id: uuid.UUID | None = None
) -> list[Any]:
    """Pending invitations (expired or not) of this email (any case), in every organization or
    one."""
    rows: list[Any] = await conn.fetch(
        f"SELECT {_INVITATION_COLUMNS} FROM users "
        f"WHERE status = 'invited' AND removed_at IS NULL AND lower(email) = lower($1) "
        f"AND ($2::uuid IS NULL OR organization_id = $2) ORDER BY invited_at, id",
        email,
        organization_id,
    )
    return rows


async def replace_invitation_token(
    conn: Connection, user_id: uuid.UUID, *, token_hash: bytes, expires_at: datetime
) -> Any:
    """A fresh token (and term) for a pending invitation; the old token stops working."""
    return await conn.fetchrow(
        f"UPDATE users SET invitation_token_hash = $2, invitation_expires_at = $3, "
        f"updated_at = now() WHERE id = $1 AND status = 'invited' AND removed_at IS NULL "
        f"RETURNING {_COLUMNS}",
        user_id,
        token_hash,
        expires_at,
    )
