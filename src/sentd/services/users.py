"""Users of an organization: listing, invitations, roles, removal (see docs/users.md).

Writes take the connection of the caller's transaction (a route's `Mutation.transaction()`);
reads and the CLI operations open their own. Times that decide an invitation's fate (`now`) are
passed in, so the API can use its controllable clock.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sentd.auth.permissions import Role
from sentd.db.database import Database
from sentd.db.repos import api_keys, dashboard, users
from sentd.db.types import Connection
from sentd.errors.exceptions import ApiError

INVITATION_TTL = timedelta(days=7)
TOKEN_PREFIX = "inv_"
ASSIGNABLE_ROLES = (Role.ADMIN, Role.BILLING, Role.DEVELOPER)


class InvitationError(Exception):
    """An invitation that cannot be accepted, with a message for the operator."""


@dataclass(frozen=True, slots=True)
class Invitation:
    user: Any
    token: str
    expires_at: datetime


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def user_view(row: Any) -> dict[str, Any]:
    """The `UserResponse` of the API."""
    return {
        "id": str(row["id"]),
        "customer_id": str(row["organization_id"]),
        "email": row["email"],
        "name": row["name"],
        "role": row["role"],
        "status": row["status"],
        "created_at": row["created_at"],
        "invited_at": row["invited_at"],
        "last_login_at": row["last_login_at"],
        "updated_at": row["updated_at"],
    }


def _not_found(user_id: uuid.UUID) -> ApiError:
    return ApiError("RESOURCE_006", {"user_id": [f"No user {user_id}"]})


async def list_users(
    db: Database, organization_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[list[Any], int]:
    """One page of the organization's members (never the owner, never removed users) and their
    total count."""
    async with db.connection() as conn:
        rows = await users.list_members(conn, organization_id, limit=limit, offset=offset)
        total = await users.count_members(conn, organization_id)
    return rows, total


async def get_user(db: Database, organization_id: uuid.UUID, user_id: uuid.UUID) -> Any:
    async with db.connection() as conn:
        row = await users.get_member(conn, organization_id, user_id)
    if row is None:
        raise _not_found(user_id)
    return row


async def invite(
    conn: Connection,
    *,
    organization_id: uuid.UUID,
    email: str,
    name: str | None,
    role: str,
    now: datetime,
) -> Invitation:
    """Invite `email` with `role`. A user already invited (or removed earlier) keeps their id and
    gets a new token; an active member is `RESOURCE_007`."""
    if role not in ASSIGNABLE_ROLES:
        raise ApiError("VALIDATION_006", {"role": ["Must be one of admin, billing, developer"]})
    await users.lock_organization(conn, organization_id)
    token = new_token()
    expires_at = now + INVITATION_TTL
    existing = await users.get_any_by_email(conn, organization_id, email)
    if existing is None:
        row = await users.insert_invited(
            conn,
            organization_id=organization_id,
            email=email,
            name=name,
            role=role,
            token_hash=token_digest(token),
            invited_at=now,
            expires_at=expires_at,
        )
    elif existing["removed_at"] is None and existing["status"] != "invited":
        raise ApiError("RESOURCE_007", {"email": [f"{email} is already a member"]})
    else:
        row = await users.reinvite(
            conn,
            existing["id"],
            name=name,
            role=role,
            token_hash=token_digest(token),
            invited_at=now,
            expires_at=expires_at,
        )
    return Invitation(row, token, expires_at)


async def _guard_membership_change(
    conn: Connection,
    *,
    organization_id: uuid.UUID,
    actor_user_id: uuid.UUID,
    user_id: uuid.UUID,
    new_role: str | None,
) -> Any:
    """The member to change, once the self and last-admin rules allow the change (`new_role`
    None: removal)."""
    await users.lock_organization(conn, organization_id)
    target = await users.get_member(conn, organization_id, user_id)
    if target is None:
        raise _not_found(user_id)
    if target["id"] == actor_user_id:
        what = "remove yourself" if new_role is None else "change your own role"
        raise ApiError("ACCOUNT_001", {"user_id": [f"You cannot {what}"]})
    loses_admin = new_role != Role.ADMIN
    if (
        loses_admin
        and target["role"] == Role.ADMIN
        and target["status"] == "active"
        and await users.count_active_admins(conn, organization_id) <= 1
    ):
        what = "removed" if new_role is None else "demoted"
        raise ApiError(
            "ACCOUNT_002",
            {"user_id": [f"{target['email']} is the last admin and cannot be {what}"]},
        )
    return target


async def update_role(
    conn: Connection,
    *,
    organization_id: uuid.UUID,
    actor_user_id: uuid.UUID,
    user_id: uuid.UUID,
    role: str,
) -> Any:
    if role not in ASSIGNABLE_ROLES:
        raise ApiError("VALIDATION_006", {"role": ["Must be one of admin, billing, developer"]})
    await _guard_membership_change(
        conn,
        organization_id=organization_id,
        actor_user_id=actor_user_id,
        user_id=user_id,
        new_role=role,
    )
    row = await users.set_role(conn, user_id, role)
    # Cached principals carry the role: make the user's keys act with the new one at once.
    await api_keys.notify_revoked(conn, await api_keys.active_digests_of_user(conn, user_id))
    return row


async def remove(
    conn: Connection, *, organization_id: uuid.UUID, actor_user_id: uuid.UUID, user_id: uuid.UUID
) -> list[bytes]:
    """Soft-remove a member and revoke every API key issued to them; return the keys' digests."""
    await _guard_membership_change(
        conn,
        organization_id=organization_id,
        actor_user_id=actor_user_id,
        user_id=user_id,
        new_role=None,
    )
    await users.mark_removed(conn, user_id)
    digests = await api_keys.revoke_all(conn, user_id=user_id)
    await api_keys.notify_revoked(conn, digests)
    return digests


async def pending_invitations(db: Database, organization_id: uuid.UUID | None = None) -> list[Any]:
    """Invitations not yet accepted (expired ones included). Tokens are stored as digests only:
    `reissue` hands out a fresh one."""
    async with db.connection() as conn:
        return await users.pending_invitations(conn, organization_id)


async def reissue(
    db: Database, email: str, *, organization_id: uuid.UUID | None = None, now: datetime
) -> Invitation:
    """A fresh token and a new 7-day term for the pending invitation of `email` (expired or not);
    the token it replaces stops working. `InvitationError` when there is none, or when several
    organizations invited the email and `organization_id` does not say which."""
    email = email.strip()
    async with db.transaction() as conn:
        rows = await users.pending_by_email(conn, email, organization_id)
        if not rows:
            where = f" in organization {organization_id}" if organization_id else ""
            member = (
                await users.get_by_email(conn, organization_id, email) if organization_id else None
            )
            if member is not None and member["status"] == "active":
                raise InvitationError(f"{email} has already accepted; they are an active member")
            raise InvitationError(f"no pending invitation for {email}{where}")
        if len(rows) > 1:
            organizations = ", ".join(str(r["organization_id"]) for r in rows)
            raise InvitationError(
                f"{email} is invited by several organizations ({organizations}); "
                "name one with --organization"
            )
        # Serialized with the organization's other user management (as `invite` is); read again
        # under the lock, so an invitation accepted or withdrawn meanwhile is not revived.
        await users.lock_organization(conn, rows[0]["organization_id"])
        token = new_token()
        expires_at = now + INVITATION_TTL
        row = await users.replace_invitation_token(
            conn, rows[0]["id"], token_hash=token_digest(token), expires_at=expires_at
        )
        if row is None:
            raise InvitationError(f"the invitation of {email} was accepted or withdrawn just now")
        return Invitation(row, token, expires_at)


async def accept(
    db: Database, token: str, *, now: datetime, password_hash: str | None = None
) -> Any:
    """Accept an invitation: the user becomes active (with `password_hash`, the dashboard's
    password, when it is given). `InvitationError` when the token is unknown (never issued,
    already used, or its user removed) or expired."""
    token = token.strip()
    async with db.transaction() as conn:
        row = await users.get_by_invitation(conn, token_digest(token))
        if row is None or row["status"] != "invited" or row["removed_at"] is not None:
            raise InvitationError(
                "no pending invitation has this token (it may have been accepted already, "
                "replaced by a newer invitation, or withdrawn)"
            )
        expires_at = row["invitation_expires_at"]
        if expires_at is not None and expires_at <= now:
            raise InvitationError(
                f"the invitation of {row['email']} expired at {expires_at.isoformat()}; "
                "ask an owner or admin to invite them again"
            )
        activated = await users.activate(conn, row["id"])
        if password_hash is not None:
            await dashboard.set_password(conn, row["id"], password_hash)
        return activated
