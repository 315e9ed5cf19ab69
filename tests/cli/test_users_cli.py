"""`sentd users invitations`, `sentd users reissue EMAIL` and `sentd users accept TOKEN`, and
`sentd keys create --user` for an invitee, as subprocesses."""

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


def test_list_reissue_and_accept_an_invitation(
    env: dict[str, str], demo: dict[str, Any], http: httpx.Client
) -> None:
    assert cli_json(env, "users", "invitations", "--json") == []
    empty = run_cli(env, "users", "invitations")
    assert empty.returncode == 0 and "No pending invitations." in empty.stderr

    email = f"dev-{uuid.uuid4().hex[:6]}@example.com"
    user = _invite(http, demo, email, "developer")
    [pending] = cli_json(env, "users", "invitations", "--json")
    assert "token" not in pending and "accept_command" not in pending  # digests only
    assert pending["user_id"] == user["id"]
    assert pending["organization_id"] == demo["organization_id"]
    assert pending["organization_name"] == "Demo Organization"
    assert (pending["email"], pending["name"], pending["role"]) == (email, "Invitee", "developer")
    assert pending["expired"] is False
    assert pending["reissue_command"] == (
        f"sentd users reissue {email} --organization {demo['organization_id']}"
    )
    invited_at = datetime.fromisoformat(pending["invited_at"])
    expires_at = datetime.fromisoformat(pending["expires_at"])
    assert (expires_at - invited_at).days == 7

    text = run_cli(env, "users", "invitations", "--organization", demo["organization_id"])
    assert text.returncode == 0 and email in text.stdout and "inv_" not in text.stdout

    # A key for someone who has not accepted would never authenticate: refused, nothing issued.
    refused = run_cli(env, "keys", "create", "--user", email)
    assert refused.returncode == 1
    assert f"error: {email} has not accepted their invitation yet" in refused.stderr
    assert "sk_" not in refused.stdout
    assert len(cli_json(env, "keys", "list", "--json")) == 2  # the demo pair only

    first = cli_json(env, "users", "reissue", email, "--json")
    token = first["token"]
    assert token.startswith("inv_")
    assert first["accept_command"] == f"sentd users accept {token}"
    assert (first["user_id"], first["email"], first["role"]) == (user["id"], email, "developer")
    plain = run_cli(env, "users", "reissue", email.upper())
    assert plain.returncode == 0, plain.stderr
    second_token = plain.stdout.strip()
    assert second_token.startswith("inv_") and second_token != token
    assert "shown only once" in plain.stderr
    assert "inv_" not in run_cli(env, "users", "invitations").stdout

    # The reissued token replaced the first one.
    replaced = run_cli(env, "users", "accept", token)
    assert replaced.returncode == 1
    assert "error: no pending invitation has this token" in replaced.stderr

    accepted = run_cli(env, "users", "accept", second_token)
    assert accepted.returncode == 0, accepted.stderr
    assert f"{email} is now an active developer" in accepted.stdout
    assert _retrieve(http, demo, user["id"])["status"] == "active"
    assert cli_json(env, "users", "invitations", "--json") == []

    again = run_cli(env, "users", "accept", second_token)
    assert again.returncode == 1
    assert "error: no pending invitation has this token" in again.stderr
    no_longer = run_cli(env, "users", "reissue", email, "--organization", demo["organization_id"])
    assert no_longer.returncode == 1
    assert f"error: {email} has already accepted" in no_longer.stderr

    # Accepted, the user gets keys that work.
    key = cli_json(env, "keys", "create", "--user", email, "--mode", "test", "--json")["key"]
    me = assert_ok(http.get("/v3/me", headers={"x-api-key": key}))
    assert (me["id"], me["role"]) == (demo["organization_id"], "developer")


def test_reissue_refuses_unknown_emails(env: dict[str, str], demo: dict[str, Any]) -> None:
    unknown = run_cli(env, "users", "reissue", "nobody@example.com")
    assert unknown.returncode == 1
    assert "error: no pending invitation for nobody@example.com" in unknown.stderr
    bad_org = run_cli(env, "users", "reissue", "a@example.com", "--organization", "nope")
    assert bad_org.returncode == 1 and "--organization must be a UUID" in bad_org.stderr


def test_accept_json_output(env: dict[str, str], demo: dict[str, Any], http: httpx.Client) -> None:
    email = f"billing-{uuid.uuid4().hex[:6]}@example.com"
    user = _invite(http, demo, email, "billing")
    token = cli_json(env, "users", "reissue", email, "--json")["token"]
    data = cli_json(env, "users", "accept", token, "--json")
    assert data["id"] == user["id"]
    assert (data["status"], data["role"]) == ("active", "billing")
    assert datetime.fromisoformat(data["updated_at"]).tzinfo is not None


def test_expired_and_unknown_tokens_fail(
    env: dict[str, str], demo: dict[str, Any], http: httpx.Client, db_url: str
) -> None:
    email = f"late-{uuid.uuid4().hex[:6]}@example.com"
    user = _invite(http, demo, email, "admin")

    def expire() -> None:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute(
                "UPDATE users SET invitation_expires_at = %s WHERE id = %s", (EXPIRED, user["id"])
            )

    expire()
    [pending] = cli_json(env, "users", "invitations", "--json")
    assert pending["expired"] is True
    assert "EXPIRED" in run_cli(env, "users", "invitations").stdout
    # Reissuing an expired invitation starts a new term...
    token = cli_json(env, "users", "reissue", email, "--json")["token"]
    [pending] = cli_json(env, "users", "invitations", "--json")
    assert pending["expired"] is False
    expire()  # ...which can run out too.

    result = run_cli(env, "users", "accept", token)
    assert result.returncode == 1
    assert f"error: the invitation of {email} expired" in result.stderr
    assert _retrieve(http, demo, user["id"])["status"] == "invited"

    unknown = run_cli(env, "users", "accept", "inv_doesnotexist")
    assert unknown.returncode == 1
    assert "error: no pending invitation has this token" in unknown.stderr
    bad_org = run_cli(env, "users", "invitations", "--organization", "nope")
    assert bad_org.returncode == 1 and "--organization must be a UUID" in bad_org.stderr
