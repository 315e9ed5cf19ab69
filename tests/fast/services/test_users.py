"""services.users on a connection: invitations (issue, re-issue, accept, expiry) and the role
rules (nobody changes themselves, the last admin stays, the owner is not a member)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sentd.auth import keys as key_format
from sentd.db.repos import api_keys
from sentd.errors.exceptions import ApiError
from sentd.services import keys, users
from tests.fast.factories import OneConnection, Org, invite, make_org

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


async def member(conn: Any, org: Org, email: str, role: str = "admin") -> Any:
    """An active member with `role` (invited, then accepted)."""
    invitation = await invite(conn, org, email, role, now=NOW)
    return await users.accept(OneConnection(conn), invitation.token, now=NOW)


async def test_an_invitation_is_accepted_once_with_its_token(db_conn: Any) -> None:
    org = await make_org(db_conn)
    invitation = await invite(db_conn, org, "ann@example.com", "billing", now=NOW, name="Ann")
    assert invitation.token.startswith("inv_")
    assert invitation.expires_at == NOW + users.INVITATION_TTL
    assert invitation.user["status"] == "invited" and invitation.user["role"] == "billing"
    # Only the token's digest is kept.
    stored = await db_conn.fetchval(
        "SELECT invitation_token_hash FROM users WHERE id = $1", invitation.user["id"]
    )
    assert stored == users.token_digest(invitation.token)
    db = OneConnection(db_conn)
    with pytest.raises(users.InvitationError):
        await users.accept(db, "inv_not-a-token", now=NOW)
    accepted = await users.accept(db, f" {invitation.token} ", now=NOW + timedelta(days=1))
    assert accepted["id"] == invitation.user["id"] and accepted["status"] == "active"
    with pytest.raises(users.InvitationError, match="accepted already"):
        await users.accept(db, invitation.token, now=NOW)
    # An active member cannot be invited again.
    with pytest.raises(ApiError) as raised:
        await invite(db_conn, org, "ANN@example.com", "admin", now=NOW)
    assert raised.value.code == "RESOURCE_007"


async def test_an_expired_invitation_is_refused_and_a_new_one_replaces_it(db_conn: Any) -> None:
    org = await make_org(db_conn)
    db = OneConnection(db_conn)
    first = await invite(db_conn, org, "bo@example.com", "admin", now=NOW)
    with pytest.raises(users.InvitationError, match="expired"):
        await users.accept(db, first.token, now=first.expires_at)
    # Inviting again keeps the user and replaces the token (the old one stops working).
    second = await invite(db_conn, org, "bo@example.com", "developer", now=first.expires_at)
    assert second.user["id"] == first.user["id"] and second.user["role"] == "developer"
    with pytest.raises(users.InvitationError):
        await users.accept(db, first.token, now=first.expires_at)
    # So does `reissue` (the CLI's): a fresh term, and only the newest token works.
    third = await users.reissue(db, "bo@example.com", now=first.expires_at)
    assert third.expires_at == first.expires_at + users.INVITATION_TTL
    with pytest.raises(users.InvitationError):
        await users.accept(db, second.token, now=first.expires_at)
    assert (await users.accept(db, third.token, now=first.expires_at))["role"] == "developer"
    with pytest.raises(users.InvitationError, match="already accepted"):
        await users.reissue(db, "bo@example.com", organization_id=org.id, now=NOW)


async def test_only_assignable_roles_are_given(db_conn: Any) -> None:
    org = await make_org(db_conn)
    for role in ("owner", "superuser"):
        with pytest.raises(ApiError) as raised:
            await invite(db_conn, org, "x@example.com", role, now=NOW)
        assert raised.value.code == "VALIDATION_006"
    admin = await member(db_conn, org, "a@example.com")
    with pytest.raises(ApiError) as raised:
        await users.update_role(
            db_conn,
            organization_id=org.id,
            actor_user_id=org.owner_id,
            user_id=admin["id"],
            role="owner",
        )
    assert raised.value.code == "VALIDATION_006"


async def test_the_last_admin_can_be_neither_demoted_nor_removed(db_conn: Any) -> None:
    org = await make_org(db_conn)
    first = await member(db_conn, org, "a1@example.com")

    async def change(user_id: Any, role: str | None) -> Any:
        if role is None:
            return await users.remove(
                db_conn, organization_id=org.id, actor_user_id=org.owner_id, user_id=user_id
            )
        return await users.update_role(
            db_conn, organization_id=org.id, actor_user_id=org.owner_id, user_id=user_id, role=role
        )

    for role in ("developer", None):
        with pytest.raises(ApiError) as raised:
            await change(first["id"], role)
        assert raised.value.code == "ACCOUNT_002"
    assert (await change(first["id"], "admin"))["role"] == "admin"  # staying admin is fine
    # An invited (not yet active) admin does not count as one.
    await invite(db_conn, org, "a2@example.com", "admin", now=NOW)
    with pytest.raises(ApiError) as raised:
        await change(first["id"], "billing")
    assert raised.value.code == "ACCOUNT_002"
    # With a second active admin, the first may go.
    await member(db_conn, org, "a3@example.com")
    assert (await change(first["id"], "billing"))["role"] == "billing"


async def test_nobody_changes_themselves_and_the_owner_is_not_a_member(db_conn: Any) -> None:
    org = await make_org(db_conn)
    first = await member(db_conn, org, "a1@example.com")
    second = await member(db_conn, org, "a2@example.com")
    with pytest.raises(ApiError) as raised:
        await users.update_role(
            db_conn,
            organization_id=org.id,
            actor_user_id=first["id"],
            user_id=first["id"],
            role="developer",
        )
    assert raised.value.code == "ACCOUNT_001"
    with pytest.raises(ApiError) as raised:
        await users.remove(
            db_conn, organization_id=org.id, actor_user_id=first["id"], user_id=first["id"]
        )
    assert raised.value.code == "ACCOUNT_001"
    # The owner cannot be removed or demoted by anyone: the API does not see them.
    for actor in (first, second):
        with pytest.raises(ApiError) as raised:
            await users.remove(
                db_conn, organization_id=org.id, actor_user_id=actor["id"], user_id=org.owner_id
            )
        assert raised.value.code == "RESOURCE_006"
    # Nor a user of another organization.
    other = await make_org(db_conn)
    with pytest.raises(ApiError) as raised:
        await users.remove(
            db_conn, organization_id=other.id, actor_user_id=other.owner_id, user_id=first["id"]
        )
    assert raised.value.code == "RESOURCE_006"


async def test_removal_revokes_the_members_keys_and_a_new_invitation_revives(
    db_conn: Any,
) -> None:
    org = await make_org(db_conn)
    dev = await member(db_conn, org, "dev@example.com", role="developer")
    issued = await keys.issue(db_conn, customer_id=org.id, user_id=dev["id"], livemode=True)
    digest = key_format.digest(issued.plaintext)
    assert await api_keys.touch_active(db_conn, digest) is not None
    revoked = await users.remove(
        db_conn, organization_id=org.id, actor_user_id=org.owner_id, user_id=dev["id"]
    )
    assert revoked == [digest]
    assert await api_keys.touch_active(db_conn, digest) is None
    assert await api_keys.touch_active(db_conn, key_format.digest(org.live_key)) is not None
    assert (await users.list_users(OneConnection(db_conn), org.id, limit=10, offset=0))[1] == 0
    again = await invite(db_conn, org, "dev@example.com", "billing", now=NOW)
    assert again.user["id"] == dev["id"] and again.user["status"] == "invited"
