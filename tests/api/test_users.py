"""`/v3/users`: list, retrieve, invite, update role, remove — the role matrix, the membership
rules (self, last admin), invitations and their expiry, key revocation on removal, sandbox."""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from sentd.db.database import Database
from sentd.db.repos import users as user_rows
from sentd.services import keys
from sentd.services import users as user_service
from tests.contract import assert_error, assert_ok
from tests.factories import Org, make_key, make_org, make_profile, table_counts
from tests.live_server import LiveServer
from tests.waiting import wait_until

URL = "/v3/users"
USER_FIELDS = {
    "id",
    "customer_id",
    "email",
    "name",
    "role",
    "status",
    "created_at",
    "invited_at",
    "last_login_at",
    "updated_at",
}


@dataclass
class Member:
    id: uuid.UUID
    email: str
    key: str


def _db(server: LiveServer) -> Database:
    db: Database = server.app.state.db
    return db


def add_member(server: LiveServer, org: Org, role: str, *, email: str | None = None) -> Member:
    """An active user of `org` with `role`, and a live key issued to them."""
    email = email or f"{role}-{uuid.uuid4().hex[:8]}@example.com"

    async def go() -> Member:
        async with _db(server).transaction() as conn:
            row = await user_rows.insert(
                conn, organization_id=org.id, email=email, name=None, role=role
            )
            issued = await keys.issue(conn, customer_id=org.id, user_id=row["id"], livemode=True)
        return Member(row["id"], email, issued.plaintext)

    return server.run(go())


def pending_token(server: LiveServer, org: Org, email: str) -> str:
    """A fresh token for the pending invitation of `email` (stored tokens are digests only)."""
    now = server.app.state.clock.now()
    invitation = server.run(
        user_service.reissue(_db(server), email, organization_id=org.id, now=now)
    )
    return invitation.token


def headers(api_key: str, **extra: str) -> dict[str, str]:
    return {"x-api-key": api_key, **extra}


def invite(
    client: httpx.Client, api_key: str, email: str, role: str = "developer", **body: Any
) -> httpx.Response:
    return client.post(URL, json={"email": email, "role": role, **body}, headers=headers(api_key))


def new_email() -> str:
    return f"new-{uuid.uuid4().hex[:8]}@example.com"


def assert_user(data: dict[str, Any], org: Org, **expected: Any) -> None:
    assert set(data) == USER_FIELDS
    assert data["customer_id"] == str(org.id)
    uuid.UUID(data["id"])
    for field in ("created_at", "updated_at"):
        assert datetime.fromisoformat(data[field]).tzinfo is not None
    for field, value in expected.items():
        assert data[field] == value, field


# --- the routes ------------------------------------------------------------------------------


def test_invite_then_retrieve_list_update_and_remove(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    email = new_email()
    response = invite(client, org.live_key, email, "developer", name="Dev One")
    created = assert_ok(response, 201)
    assert_user(created, org, email=email, name="Dev One", role="developer", status="invited")
    assert datetime.fromisoformat(created["invited_at"]).tzinfo is not None
    assert created["last_login_at"] is None
    assert response.headers["x-ratelimit-limit"] == "10"  # a sensitive route

    user_url = f"{URL}/{created['id']}"
    assert assert_ok(client.get(user_url, headers=headers(org.live_key))) == created

    listed = assert_ok(client.get(URL, headers=headers(org.live_key)))
    assert listed["users"] == [created]  # the owner is implicit: not listed
    assert listed["pagination"] == {
        "page": 1,
        "page_size": 20,
        "total_count": 1,
        "total_pages": 1,
        "has_more": False,
        "cursors": None,
    }

    updated = assert_ok(
        client.patch(user_url, json={"role": "billing"}, headers=headers(org.live_key))
    )
    assert_user(updated, org, id=created["id"], role="billing", status="invited")

    removed = client.request("DELETE", user_url, json={}, headers=headers(org.live_key))
    assert removed.status_code == 204, removed.text
    assert removed.content == b""
    assert_error(client.get(user_url, headers=headers(org.live_key)), "RESOURCE_006")
    assert assert_ok(client.get(URL, headers=headers(org.live_key)))["users"] == []
    # a removed user's invitation is withdrawn with them
    assert server.run(user_service.pending_invitations(_db(server), org.id)) == []


def test_list_is_paginated_in_creation_order(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    members = [add_member(server, org, role) for role in ("admin", "developer", "billing")]
    first = assert_ok(client.get(URL, params={"page_size": 2}, headers=headers(org.live_key)))
    assert [u["id"] for u in first["users"]] == [str(m.id) for m in members[:2]]
    assert first["pagination"]["has_more"] is True
    assert first["pagination"]["total_count"] == 3
    assert first["pagination"]["total_pages"] == 2
    second = assert_ok(
        client.get(URL, params={"page_size": 2, "page": 2}, headers=headers(org.live_key))
    )
    assert [u["id"] for u in second["users"]] == [str(members[2].id)]
    assert second["pagination"]["has_more"] is False
    assert [u["status"] for u in first["users"]] == ["active", "active"]


def test_users_belong_to_the_organization_not_the_profile(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    member = add_member(server, org, "developer")
    profile = make_profile(server, org)
    profile_key = make_key(server, org, customer_id=profile["id"])
    as_profile = headers(org.live_key, **{"x-profile-id": str(profile["id"])})
    for request_headers in (as_profile, headers(profile_key)):
        response = client.get(URL, headers=request_headers)
        ids = [u["id"] for u in assert_ok(response)["users"]]
        assert str(member.id) in ids
        assert all(u["customer_id"] == str(org.id) for u in assert_ok(response)["users"])
    created = assert_ok(invite(client, profile_key, new_email()), 201)
    assert created["customer_id"] == str(org.id)


# --- the role matrix -----------------------------------------------------------------------

MANAGERS = {"owner", "admin"}


@pytest.mark.parametrize("role", ["owner", "admin", "developer", "billing"])
def test_role_matrix(server: LiveServer, client: httpx.Client, role: str) -> None:
    org = make_org(server)
    api_key = make_key(server, org, role=role)
    target = add_member(server, org, "developer")
    target_url = f"{URL}/{target.id}"
    may_manage = role in MANAGERS

    assert_ok(client.get(URL, headers=headers(api_key)))
    assert_ok(client.get(target_url, headers=headers(api_key)))

    calls = [
        (invite(client, api_key, new_email()), 201),
        (client.patch(target_url, json={"role": "billing"}, headers=headers(api_key)), 200),
        (client.request("DELETE", target_url, json={}, headers=headers(api_key)), 204),
    ]
    for response, status in calls:
        if may_manage:
            assert response.status_code == status, response.text
        else:
            error = assert_error(response, "AUTH_004")
            assert error["details"] == {"role": [f"The {role} role may not do this (users:manage)"]}
    if not may_manage:  # nothing changed
        data = assert_ok(client.get(target_url, headers=headers(api_key)))
        assert data["role"] == "developer"


def test_permission_is_checked_before_validation(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    developer = make_key(server, org, role="developer")
    assert_error(client.post(URL, json={}, headers=headers(developer)), "AUTH_004")
    assert_error(client.patch(f"{URL}/not-a-uuid", json={}, headers=headers(developer)), "AUTH_004")


def test_missing_key_is_auth_001(client: httpx.Client) -> None:
    assert_error(client.get(URL), "AUTH_001")
    assert_error(client.post(URL, json={"email": new_email(), "role": "admin"}), "AUTH_001")


# --- not found -----------------------------------------------------------------------------


def test_unknown_foreign_owner_and_malformed_ids(server: LiveServer, client: httpx.Client) -> None:
    org, other = make_org(server), make_org(server)
    foreign = add_member(server, other, "developer")
    h = headers(org.live_key)
    for user_id in (uuid.uuid4(), foreign.id, org.owner_id):
        url = f"{URL}/{user_id}"
        error = assert_error(client.get(url, headers=h), "RESOURCE_006")
        assert error["details"] == {"user_id": [f"No user {user_id}"]}
        assert_error(client.patch(url, json={"role": "admin"}, headers=h), "RESOURCE_006")
        assert_error(client.request("DELETE", url, json={}, headers=h), "RESOURCE_006")
    # the foreign user was not touched
    assert_ok(client.get(f"{URL}/{foreign.id}", headers=headers(other.live_key)))
    for method, body in (("GET", None), ("PATCH", {"role": "admin"}), ("DELETE", {})):
        response = client.request(method, f"{URL}/not-a-uuid", json=body, headers=h)
        assert_error(response, "VALIDATION_003")


# --- invitations ---------------------------------------------------------------------------


def test_inviting_a_member_is_resource_007(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    member = add_member(server, org, "billing", email=f"Member-{uuid.uuid4().hex[:6]}@Example.com")
    error = assert_error(invite(client, org.live_key, member.email.lower()), "RESOURCE_007")
    assert error["details"] == {"email": [f"{member.email.lower()} is already a member"]}
    owner = assert_ok(client.get("/v3/me", headers=headers(org.live_key)))["email"]
    assert_error(invite(client, org.live_key, owner), "RESOURCE_007")
    # an accepted invitation makes a member too
    email = new_email()
    assert_ok(invite(client, org.live_key, email), 201)
    server.run(
        user_service.accept(
            _db(server), pending_token(server, org, email), now=server.app.state.clock.now()
        )
    )
    response = invite(client, org.live_key, email)
    assert_error(response, "RESOURCE_007")
    assert response.headers["x-should-retry"] == "false"


def test_reinviting_issues_a_new_token_for_the_same_user(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    email = new_email()
    first = assert_ok(invite(client, org.live_key, email, "developer", name="Dee"), 201)
    first_token = pending_token(server, org, email)
    second = assert_ok(invite(client, org.live_key, email.upper(), "admin"), 201)
    assert second["id"] == first["id"]
    assert second["email"] == email
    assert second["role"] == "admin"  # the latest invitation's role
    assert second["name"] == "Dee"  # kept when not given again
    second_token = pending_token(server, org, email)
    assert second_token != first_token
    now = server.app.state.clock.now()
    with pytest.raises(user_service.InvitationError, match="no pending invitation"):
        server.run(user_service.accept(_db(server), first_token, now=now))
    accepted = server.run(user_service.accept(_db(server), second_token, now=now))
    assert accepted["status"] == "active" and accepted["role"] == "admin"
    data = assert_ok(client.get(f"{URL}/{first['id']}", headers=headers(org.live_key)))
    assert data["status"] == "active"


def test_a_removed_user_can_be_invited_again(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    member = add_member(server, org, "developer")
    url = f"{URL}/{member.id}"
    assert client.request("DELETE", url, json={}, headers=headers(org.live_key)).status_code == 204
    again = assert_ok(invite(client, org.live_key, member.email, "billing"), 201)
    assert again["id"] == str(member.id)
    assert (again["status"], again["role"]) == ("invited", "billing")
    assert_error(client.get("/v3/me", headers=headers(member.key)), "AUTH_002")  # still revoked


def test_invitation_is_logged_by_the_console_mail_backend(
    server: LiveServer, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    org = make_org(server)
    email = new_email()
    with caplog.at_level(logging.INFO, logger="sentd.mail"):
        assert_ok(invite(client, org.live_key, email), 201)
    lines = [r for r in caplog.records if r.name == "sentd.mail"]
    assert len(lines) == 1
    command = lines[0].__dict__["accept_command"]
    token = command.removeprefix("sentd users accept ")
    assert token.startswith("inv_") and command == f"sentd users accept {token}"
    message = lines[0].getMessage()
    assert email in message and command in message

    # The mail's token is the only copy: the database holds its digest, never the plaintext.
    async def stored() -> Any:
        async with _db(server).connection() as conn:
            return await conn.fetchrow("SELECT * FROM users WHERE email = $1", email)

    row = server.run(stored())
    assert token not in {str(v) for v in dict(row).values()}
    assert bytes(row["invitation_token_hash"]) == user_service.token_digest(token)
    accepted = server.run(user_service.accept(_db(server), token, now=server.app.state.clock.now()))
    assert accepted["status"] == "active"


def test_invitation_expires_after_seven_days(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    clock = server.app.state.clock
    db = _db(server)
    on_time, late = new_email(), new_email()
    try:
        assert_ok(invite(client, org.live_key, on_time), 201)
        assert_ok(invite(client, org.live_key, late), 201)
        on_time_token = pending_token(server, org, on_time)
        late_token = pending_token(server, org, late)
        clock.advance(timedelta(days=7) - timedelta(seconds=5))
        assert server.run(user_service.accept(db, on_time_token, now=clock.now()))["status"] == (
            "active"
        )
        clock.advance(timedelta(seconds=6))  # 7 days and 1 second after the invitation
        with pytest.raises(user_service.InvitationError, match="expired"):
            server.run(user_service.accept(db, late_token, now=clock.now()))
        rows = assert_ok(client.get(URL, headers=headers(org.live_key)))["users"]
        assert {u["email"]: u["status"] for u in rows} == {on_time: "active", late: "invited"}
        # a new invitation starts a new week
        assert_ok(invite(client, org.live_key, late), 201)
        fresh = pending_token(server, org, late)
        assert server.run(user_service.accept(db, fresh, now=clock.now()))["status"] == "active"
    finally:
        clock.offset = timedelta(0)


def test_unknown_token_cannot_be_accepted(server: LiveServer) -> None:
    with pytest.raises(user_service.InvitationError, match="no pending invitation"):
        server.run(user_service.accept(_db(server), "inv_nope", now=server.app.state.clock.now()))


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"role": "admin"}, "VALIDATION_004", "email"),
        ({"email": None, "role": "admin"}, "VALIDATION_004", "email"),
        ({"email": "a@example.com"}, "VALIDATION_004", "role"),
        ({"email": "a@example.com", "role": "owner"}, "VALIDATION_006", "role"),
        ({"email": "a@example.com", "role": "Admin"}, "VALIDATION_006", "role"),
        ({"email": "a@example.com", "role": "superuser"}, "VALIDATION_006", "role"),
        ({"email": "not-an-email", "role": "admin"}, "VALIDATION_001", "email"),
        ({"email": "a@b", "role": "admin"}, "VALIDATION_001", "email"),
        ({"email": "a b@example.com", "role": "admin"}, "VALIDATION_001", "email"),
        ({"email": "a@example.com", "role": "admin", "name": "x" * 201}, "VALIDATION_005", "name"),
        ({"email": "a@example.com", "role": "admin", "sandbox": "maybe"}, "VALIDATION_001", None),
    ],
)
def test_invite_validation(
    server: LiveServer, client: httpx.Client, body: dict[str, Any], code: str, field: str | None
) -> None:
    org = make_org(server)
    before = table_counts(server)["users"]
    error = assert_error(client.post(URL, json=body, headers=headers(org.live_key)), code)
    if field is not None:
        assert list(error["details"]) == [field]
    assert table_counts(server)["users"] == before


def test_invite_accepts_nulls_and_ignores_unknown_keys(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    email = new_email()
    data = assert_ok(
        invite(client, org.live_key, f"  {email} ", name=None, sandbox=None, nickname="x"), 201
    )
    assert data["email"] == email and data["name"] is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "VALIDATION_004"),
        ({"role": None}, "VALIDATION_004"),
        ({"role": "owner"}, "VALIDATION_006"),
        ({"role": "guest"}, "VALIDATION_006"),
    ],
)
def test_update_role_validation(
    server: LiveServer, client: httpx.Client, body: dict[str, Any], code: str
) -> None:
    org = make_org(server)
    member = add_member(server, org, "developer")
    response = client.patch(f"{URL}/{member.id}", json=body, headers=headers(org.live_key))
    assert list(assert_error(response, code)["details"]) == ["role"]


def test_mutations_accept_sandbox_null_and_delete_without_body(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    member = add_member(server, org, "developer")
    url = f"{URL}/{member.id}"
    h = headers(org.live_key)
    patched = client.patch(url, json={"role": "billing", "sandbox": None, "extra": 1}, headers=h)
    assert assert_ok(patched)["role"] == "billing"
    assert client.request("DELETE", url, json={"sandbox": None}, headers=h).status_code == 204
    other = add_member(server, org, "developer")
    assert client.delete(f"{URL}/{other.id}", headers=h).status_code == 204


# --- membership rules ----------------------------------------------------------------------


def test_nobody_removes_or_changes_themselves(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    admin, _second = add_member(server, org, "admin"), add_member(server, org, "admin")
    url = f"{URL}/{admin.id}"
    error = assert_error(
        client.request("DELETE", url, json={}, headers=headers(admin.key)), "ACCOUNT_001"
    )
    assert error["details"] == {"user_id": ["You cannot remove yourself"]}
    assert error["message"] == "Cannot remove or change your own membership"
    response = client.patch(url, json={"role": "developer"}, headers=headers(admin.key))
    error = assert_error(response, "ACCOUNT_001")
    assert error["details"] == {"user_id": ["You cannot change your own role"]}
    response = client.patch(url, json={"role": "admin"}, headers=headers(admin.key))
    assert_error(response, "ACCOUNT_001")
    assert assert_ok(client.get(url, headers=headers(admin.key)))["role"] == "admin"
    # the owner is not a listed user: their own id is unknown here
    owner_url = f"{URL}/{org.owner_id}"
    assert_error(
        client.request("DELETE", owner_url, json={}, headers=headers(admin.key)), "RESOURCE_006"
    )


def test_the_last_admin_stays(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    h = headers(org.live_key)  # the owner
    admin = add_member(server, org, "admin")
    url = f"{URL}/{admin.id}"
    assert_ok(invite(client, org.live_key, new_email(), "admin"), 201)  # invited: not counted
    for role in ("developer", "billing"):
        response = client.patch(url, json={"role": role}, headers=h)
        error = assert_error(response, "ACCOUNT_002")
        assert error["details"] == {
            "user_id": [f"{admin.email} is the last admin and cannot be demoted"]
        }
    error = assert_error(client.request("DELETE", url, json={}, headers=h), "ACCOUNT_002")
    assert error["details"] == {
        "user_id": [f"{admin.email} is the last admin and cannot be removed"]
    }
    assert assert_ok(client.patch(url, json={"role": "admin"}, headers=h))["role"] == "admin"

    second = add_member(server, org, "admin")
    assert assert_ok(client.patch(url, json={"role": "developer"}, headers=h))["role"] == (
        "developer"
    )
    # `second` is now the last active admin
    assert_error(client.request("DELETE", f"{URL}/{second.id}", json={}, headers=h), "ACCOUNT_002")
    assert client.request("DELETE", url, json={}, headers=h).status_code == 204


def test_concurrent_removals_leave_one_admin(server: LiveServer) -> None:
    org = make_org(server)
    admins = [add_member(server, org, "admin") for _ in range(2)]
    statuses: list[int] = []

    def remove(member: Member) -> None:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            url = f"{URL}/{member.id}"
            statuses.append(
                http.request("DELETE", url, json={}, headers=headers(org.live_key)).status_code
            )

    threads = [threading.Thread(target=remove, args=(a,)) for a in admins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [204, 422]


def test_removal_revokes_the_users_keys_at_once(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    member = add_member(server, org, "developer")
    second_key = server.run(
        keys.create(_db(server), customer_id=org.id, user_email=member.email, livemode=False)
    ).plaintext
    for api_key in (member.key, second_key):
        assert_ok(client.get(URL, headers=headers(api_key)))  # now cached
    removed = client.request("DELETE", f"{URL}/{member.id}", json={}, headers=headers(org.live_key))
    assert removed.status_code == 204
    for api_key in (member.key, second_key):
        assert_error(client.get(URL, headers=headers(api_key)), "AUTH_002")
    assert_ok(client.get(URL, headers=headers(org.live_key)))  # other keys still work
    # and no new key can be issued to the removed user
    with pytest.raises(keys.KeyIssueError):
        server.run(
            keys.create(_db(server), customer_id=org.id, user_email=member.email, livemode=True)
        )


def test_a_role_change_applies_at_once(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    admin = add_member(server, org, "admin")
    add_member(server, org, "admin")
    assert_ok(client.get(URL, headers=headers(admin.key)))  # cached as admin
    response = client.patch(
        f"{URL}/{admin.id}", json={"role": "developer"}, headers=headers(org.live_key)
    )
    assert assert_ok(response)["role"] == "developer"
    # The change reaches every process's key cache by NOTIFY within milliseconds, far inside the
    # cache's TTL (5 s); a sandboxed invite (which writes nothing) shows when it has arrived.
    wait_until(
        lambda: invite(client, admin.key, new_email(), sandbox=True).status_code == 403,
        "the role change reaching the key cache",
        timeout=2.5,
    )
    assert_error(invite(client, admin.key, new_email()), "AUTH_004")


# --- sandbox and idempotency ---------------------------------------------------------------


def test_sandbox_invite_creates_nothing(
    server: LiveServer, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    org = make_org(server)
    email = new_email()
    before = table_counts(server)
    with caplog.at_level(logging.INFO, logger="sentd.mail"):
        response = invite(client, org.live_key, email, "admin", sandbox=True)
    data = assert_ok(response, 201)
    assert response.headers["x-sandbox"] == "true"
    assert_user(data, org, email=email, role="admin", status="invited")
    assert table_counts(server) == before
    assert not [r for r in caplog.records if r.name == "sentd.mail"]
    assert_error(client.get(f"{URL}/{data['id']}", headers=headers(org.live_key)), "RESOURCE_006")
    # sandbox errors are real errors
    member = add_member(server, org, "developer")
    response = invite(client, org.live_key, member.email, sandbox=True)
    assert_error(response, "RESOURCE_007")
    assert response.headers["x-sandbox"] == "true"


def test_sandbox_update_and_remove_change_nothing(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    member = add_member(server, org, "developer")
    url, h = f"{URL}/{member.id}", headers(org.live_key)
    response = client.patch(url, json={"role": "admin", "sandbox": True}, headers=h)
    assert assert_ok(response)["role"] == "admin"
    assert response.headers["x-sandbox"] == "true"
    response = client.request("DELETE", url, json={"sandbox": True}, headers=h)
    assert response.status_code == 204
    assert response.headers["x-sandbox"] == "true"
    assert assert_ok(client.get(url, headers=h))["role"] == "developer"
    assert_ok(client.get(URL, headers=headers(member.key)))  # the key was not revoked


def test_invite_with_an_idempotency_key_runs_once(
    server: LiveServer, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    org = make_org(server)
    email = new_email()
    h = headers(org.live_key, **{"Idempotency-Key": f"invite-{uuid.uuid4().hex}"})
    body = {"email": email, "role": "developer"}
    with caplog.at_level(logging.INFO, logger="sentd.mail"):
        first = client.post(URL, json=body, headers=h)
        second = client.post(URL, json=body, headers=h)
    assert_ok(first, 201)
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert len([r for r in caplog.records if r.name == "sentd.mail"]) == 1


# --- sentd's own codes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ACCOUNT_001", "Cannot remove or change your own membership"),
        ("ACCOUNT_002", "Cannot remove or demote the last admin"),
    ],
)
def test_account_codes_are_listed_at_errors(client: httpx.Client, code: str, message: str) -> None:
    data = assert_ok(client.get(f"/errors/{code}"))
    assert (data["status"], data["message"], data["title"]) == (422, message, "Accounts")
    assert data["in_catalog"] is False and data["retryable"] is False
    listed = {e["code"]: e for e in assert_ok(client.get("/errors"))["errors"]}
    assert listed[code] == data
