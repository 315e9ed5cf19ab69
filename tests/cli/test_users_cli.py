"""`sentd users invitations` and `sentd users accept TOKEN`, as subprocesses."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
import psycopg

from tests.cli.support import EXPIRED, cli_json, run_cli
from tests.contract import assert_ok


def _invite(http: httpx.Client, demo: dict[str, Any], email: str, role: str) -> dict[str, Any]:
    response = http.post(
        "/v3/users",
        json={"email": email, "role": role, "name": "Invitee"},
        headers={"x-api-key": demo["live_key"]},
    )
    data: dict[str, Any] = assert_ok(response, 201)
    return data


def _retrieve(http: httpx.Client, demo: dict[str, Any], user_id: str) -> dict[str, Any]:
    response = http.get(f"/v3/users/{user_id}", headers={"x-api-key": demo["live_key"]})
    data: dict[str, Any] = assert_ok(response)
    return data


def test_list_and_accept_an_invitation(
    env: dict[str, str], demo: dict[str, Any], http: httpx.Client
) -> None:
    assert cli_json(env, "users", "invitations", "--json") == []
    empty = run_cli(env, "users", "invitations")
    assert empty.returncode == 0 and "No pending invitations." in empty.stderr

    email = f"dev-{uuid.uuid4().hex[:6]}@example.com"
    user = _invite(http, demo, email, "developer")
    [pending] = cli_json(env, "users", "invitations", "--json")
    token = pending["token"]
    assert token.startswith("inv_")
    assert pending["user_id"] == user["id"]
    assert pending["organization_id"] == demo["organization_id"]
    assert pending["organization_name"] == "Demo Organization"
    assert (pending["email"], pending["name"], pending["role"]) == (email, "Invitee", "developer")
    assert pending["expired"] is False
    assert pending["accept_command"] == f"sentd users accept {token}"
    invited_at = datetime.fromisoformat(pending["invited_at"])
    expires_at = datetime.fromisoformat(pending["expires_at"])
    assert (expires_at - invited_at).days == 7

    text = run_cli(env, "users", "invitations", "--organization", demo["organization_id"])
    assert text.returncode == 0 and token in text.stdout and email in text.stdout

    accepted = run_cli(env, "users", "accept", token)
    assert accepted.returncode == 0, accepted.stderr
    assert f"{email} is now an active developer" in accepted.stdout
    assert _retrieve(http, demo, user["id"])["status"] == "active"
    assert cli_json(env, "users", "invitations", "--json") == []

    again = run_cli(env, "users", "accept", token)
    assert again.returncode == 1
    assert "error: no pending invitation has this token" in again.stderr


def test_accept_json_output(env: dict[str, str], demo: dict[str, Any], http: httpx.Client) -> None:
    user = _invite(http, demo, f"billing-{uuid.uuid4().hex[:6]}@example.com", "billing")
    [pending] = cli_json(env, "users", "invitations", "--json")
    data = cli_json(env, "users", "accept", pending["token"], "--json")
    assert data["id"] == user["id"]
    assert (data["status"], data["role"]) == ("active", "billing")
    assert datetime.fromisoformat(data["updated_at"]).tzinfo is not None


def test_expired_and_unknown_tokens_fail(
    env: dict[str, str], demo: dict[str, Any], http: httpx.Client, db_url: str
) -> None:
    email = f"late-{uuid.uuid4().hex[:6]}@example.com"
    user = _invite(http, demo, email, "admin")
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE users SET invitation_expires_at = %s WHERE id = %s", (EXPIRED, user["id"])
        )
    [pending] = cli_json(env, "users", "invitations", "--json")
    assert pending["expired"] is True
    assert "EXPIRED" in run_cli(env, "users", "invitations").stdout

    result = run_cli(env, "users", "accept", pending["token"])
    assert result.returncode == 1
    assert f"error: the invitation of {email} expired" in result.stderr
    assert _retrieve(http, demo, user["id"])["status"] == "invited"

    unknown = run_cli(env, "users", "accept", "inv_doesnotexist")
    assert unknown.returncode == 1
    assert "error: no pending invitation has this token" in unknown.stderr
    bad_org = run_cli(env, "users", "invitations", "--organization", "nope")
    assert bad_org.returncode == 1 and "--organization must be a UUID" in bad_org.stderr
