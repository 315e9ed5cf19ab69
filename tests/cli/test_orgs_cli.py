"""`sentd orgs create|list|show|suspend|resume` and `sentd keys create --expires-at`, as
subprocesses against a fresh database, with a real server answering the keys they make.

The `http` server caches keys for 300 s: a suspension can only reach it at once through the
NOTIFY that `sentd orgs suspend` sends.
"""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

from tests.cli.support import DEMO_MICROS, SENTD, cli_json, free_port, run_cli, wait_healthy
from tests.contract import assert_error, assert_ok


def me(http: httpx.Client, key: str, **headers: str) -> httpx.Response:
    return http.get("/v3/me", headers={"x-api-key": key, **headers})


def create_org(env: dict[str, str], name: str, *args: str) -> dict[str, Any]:
    owner = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    org: dict[str, Any] = cli_json(env, "orgs", "create", name, "--owner", owner, *args, "--json")
    assert org["owner_email"] == owner
    return org


def test_create_list_and_show(
    env: dict[str, str], demo: dict[str, Any], http: httpx.Client
) -> None:
    acme = create_org(env, "Acme", "--plan", "growth", "--credit", "10.5")
    assert set(acme) == {
        "organization_id",
        "name",
        "owner_email",
        "plan",
        "live_key",
        "test_key",
    }
    assert (acme["name"], acme["plan"]) == ("Acme", "growth")
    assert acme["live_key"].startswith("sk_live_") and acme["test_key"].startswith("sk_test_")

    live = assert_ok(me(http, acme["live_key"]))
    assert (live["id"], live["name"], live["mode"], live["role"]) == (
        acme["organization_id"],
        "Acme",
        "live",
        "owner",
    )
    assert live["email"] == acme["owner_email"]
    assert live["balance"]["amount_micros"] == 10_500_000
    test = assert_ok(me(http, acme["test_key"]))
    assert (test["id"], test["mode"]) == (acme["organization_id"], "test")
    assert test["balance"]["amount_micros"] == DEMO_MICROS  # play money, as `init` gives

    plain = run_cli(env, "orgs", "create", "Bare", "--owner", "bare@example.com")
    assert plain.returncode == 0, plain.stderr
    assert "sk_live_" in plain.stdout and "sk_test_" in plain.stdout
    assert "shown only once" in plain.stderr

    listed = cli_json(env, "orgs", "list", "--json")
    assert [o["name"] for o in listed] == ["Demo Organization", "Acme", "Bare"]
    by_name = {o["name"]: o for o in listed}
    assert by_name["Acme"] | {"created_at": None} == {
        "id": acme["organization_id"],
        "name": "Acme",
        "owner_email": acme["owner_email"],
        "plan": "growth",
        "status": "active",
        "suspended_at": None,
        "profiles": 0,
        "members": 0,
        "active_keys": 2,
        "created_at": None,
    }
    assert by_name["Bare"]["plan"] == "starter"
    text = run_cli(env, "orgs", "list")
    assert text.returncode == 0 and acme["organization_id"] in text.stdout
    for key in (acme["live_key"], acme["test_key"], demo["live_key"]):
        assert key not in text.stdout

    shown = cli_json(env, "orgs", "show", acme["organization_id"], "--json")
    assert shown["id"] == acme["organization_id"]
    assert (shown["status"], shown["plan"], shown["owner_email"]) == (
        "active",
        "growth",
        acme["owner_email"],
    )
    assert shown["balances"]["live"]["amount_micros"] == 10_500_000
    assert shown["balances"]["test"]["amount_micros"] == DEMO_MICROS
    assert shown["profile_list"] == [] and shown["limit_overrides"] == {}
    shown_text = run_cli(env, "orgs", "show", acme["organization_id"])
    assert shown_text.returncode == 0 and "growth" in shown_text.stdout

    # With several organizations, a key names its customer.
    ambiguous = run_cli(env, "keys", "create")
    assert ambiguous.returncode == 1 and "there are 3 organizations" in ambiguous.stderr
    extra = cli_json(
        env, "keys", "create", "--customer", acme["organization_id"], "--mode", "test", "--json"
    )
    assert assert_ok(me(http, extra["key"]))["id"] == acme["organization_id"]


def test_create_refuses_bad_input_and_creates_nothing(
    env: dict[str, str], demo: dict[str, Any]
) -> None:
    cases = {
        ("", "--owner", "a@example.com"): "NAME must not be empty",
        ("X", "--owner", "not-an-email"): "--owner must be an email address",
        ("X", "--owner", "a@example.com", "--plan", "gold"): "--plan must be one of",
        ("X", "--owner", "a@example.com", "--credit", "lots"): "--credit",
        ("X", "--owner", "a@example.com", "--credit", "-1"): "error",
    }
    for args, message in cases.items():
        result = run_cli(env, "orgs", "create", *args)
        assert result.returncode != 0, args
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert len(cli_json(env, "orgs", "list", "--json")) == 1

    for command in ("show", "suspend", "resume"):
        missing = str(uuid.uuid4())
        unknown = run_cli(env, "orgs", command, missing)
        assert unknown.returncode == 1, command
        assert f"error: no organization {missing}" in unknown.stderr
        malformed = run_cli(env, "orgs", command, "nope")
        assert malformed.returncode == 1 and "must be a UUID" in malformed.stderr


def _make_profile(http: httpx.Client, org_key: str) -> str:
    body = {"name": "Shop", "short_name": "SHOP", "billing_model": "organization"}
    response = http.post("/v3/profiles", json=body, headers={"x-api-key": org_key})
    profile_id: str = assert_ok(response, 201)["id"]
    return profile_id


def test_suspend_and_resume_reach_a_running_server_at_once(
    env: dict[str, str], demo: dict[str, Any], http: httpx.Client
) -> None:
    acme = create_org(env, "Acme")
    org_id = acme["organization_id"]
    profile_id = _make_profile(http, acme["live_key"])
    profile_key = cli_json(env, "keys", "create", "--profile", profile_id, "--json")["key"]
    calls = {
        "live": lambda: me(http, acme["live_key"]),
        "test": lambda: me(http, acme["test_key"]),
        "profile key": lambda: me(http, profile_key),
        "x-profile-id": lambda: me(http, acme["live_key"], **{"x-profile-id": profile_id}),
        "write": lambda: http.post(
            "/v3/contacts",
            json={"phone_number": "+14155550123"},
            headers={"x-api-key": acme["test_key"]},
        ),
    }
    for name, call in calls.items():  # every key is now in the server's cache
        assert call().status_code in (200, 201), name

    profile_refused = run_cli(env, "orgs", "suspend", profile_id)
    assert profile_refused.returncode == 1
    assert f"is a profile; suspend its organization {org_id}" in profile_refused.stderr

    suspended = run_cli(env, "orgs", "suspend", org_id)
    assert suspended.returncode == 0, suspended.stderr
    assert "suspended" in suspended.stdout and "ACCOUNT_003" in suspended.stdout
    for name, call in calls.items():
        error = assert_error(call(), "ACCOUNT_003")
        assert error["details"] == {"x-api-key": ["The key's organization is suspended"]}, name
    # A suspended key is not a failed authentication: no throttling however often it calls.
    for _ in range(25):
        assert_error(me(http, acme["live_key"]), "ACCOUNT_003")
    assert assert_ok(me(http, demo["live_key"]))["id"] == demo["organization_id"]

    # Nothing is deleted; the state shows.
    shown = cli_json(env, "orgs", "show", org_id, "--json")
    assert shown["status"] == "suspended" and shown["suspended_at"] is not None
    assert shown["active_keys"] == 3 and shown["profiles"] == 1
    keys = cli_json(env, "keys", "list", "--customer", org_id, "--json")
    assert {k["state"] for k in keys} == {"active"}
    listed = {o["id"]: o for o in cli_json(env, "orgs", "list", "--json")}
    assert listed[org_id]["status"] == "suspended"
    assert listed[demo["organization_id"]]["status"] == "active"
    again = cli_json(env, "orgs", "suspend", org_id, "--json")
    assert again == {"organization_id": org_id, "status": "suspended", "changed": False}
    assert cli_json(env, "orgs", "show", org_id, "--json")["suspended_at"] == shown["suspended_at"]

    resumed = run_cli(env, "orgs", "resume", org_id)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed" in resumed.stdout
    for name, call in calls.items():
        assert call().status_code in (200, 201, 409), name
    assert assert_ok(me(http, profile_key))["id"] == profile_id
    assert cli_json(env, "orgs", "show", org_id, "--json")["status"] == "active"
    assert cli_json(env, "orgs", "resume", org_id, "--json")["changed"] is False


RFC_3339 = {
    "2099-12-02T15:26:14.255951Z": datetime(2099, 12, 2, 15, 26, 14, 255951, tzinfo=UTC),
    "2099-12-02T15:26:14Z": datetime(2099, 12, 2, 15, 26, 14, tzinfo=UTC),
    "2099-12-02t15:26:14.5z": datetime(2099, 12, 2, 15, 26, 14, 500000, tzinfo=UTC),
    "2099-12-02T17:26:14.25+02:00": datetime(
        2099, 12, 2, 17, 26, 14, 250000, tzinfo=timezone(timedelta(hours=2))
    ),
    "2099-12-02T10:26:14-05:00": datetime(2099, 12, 2, 15, 26, 14, tzinfo=UTC),
    "2099-12-02 15:26:14.1+00:00": datetime(2099, 12, 2, 15, 26, 14, 100000, tzinfo=UTC),
    "2099-12-02T15:26:14": datetime(2099, 12, 2, 15, 26, 14, tzinfo=UTC),  # no offset: UTC
    "2099-12-02": datetime(2099, 12, 2, tzinfo=UTC),
}


def test_expires_at_accepts_rfc_3339(env: dict[str, str], demo: dict[str, Any]) -> None:
    for given, expected in RFC_3339.items():
        created = cli_json(env, "keys", "create", "--mode", "test", "--expires-at", given, "--json")
        assert datetime.fromisoformat(created["expires_at"]) == expected, given
        assert created["state"] == "active", given


def test_expires_at_in_the_past_and_malformed(
    env: dict[str, str], demo: dict[str, Any], http: httpx.Client
) -> None:
    past = cli_json(env, "keys", "create", "--expires-at", "2001-02-03T04:05:06.7Z", "--json")
    assert past["state"] == "expired"
    assert_error(me(http, past["key"]), "AUTH_002")
    soon = datetime.now(UTC) + timedelta(hours=1)
    fresh = cli_json(env, "keys", "create", "--expires-at", soon.isoformat(), "--json")
    assert assert_ok(me(http, fresh["key"]))["id"] == demo["organization_id"]
    for bad in ("tomorrow", "2099-13-01T00:00:00Z", "2099-12-02T25:00:00Z"):
        result = run_cli(env, "keys", "create", "--expires-at", bad)
        assert result.returncode == 1, bad
        assert "error: --expires-at must be an RFC 3339 time" in result.stderr
    assert len(cli_json(env, "keys", "list", "--json")) == 4  # the demo pair, past, fresh


def test_suspension_reaches_every_process_of_a_running_server(
    env: dict[str, str], demo: dict[str, Any], tmp_path: Path
) -> None:
    """`sentd serve --workers 2` with a 300 s key cache: each process has the key cached, and
    only the NOTIFY can tell them all of a suspension (or of its end) at once."""
    acme = create_org(env, "Acme")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    serve_env = env | {"SENTD_AUTH_CACHE_TTL_S": "300"}
    with (tmp_path / "serve.log").open("wb") as log:
        serve = subprocess.Popen(
            [SENTD, "serve", "--port", str(port), "--workers", "2", "--no-worker"],
            env=serve_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_healthy(base_url, serve)

        def statuses(count: int) -> set[int]:
            # A new connection each time, so that both processes answer some of them.
            return {
                httpx.get(
                    f"{base_url}/v3/me", headers={"x-api-key": acme["live_key"]}, timeout=10
                ).status_code
                for _ in range(count)
            }

        assert statuses(30) == {200}
        assert run_cli(env, "orgs", "suspend", acme["organization_id"]).returncode == 0
        assert statuses(30) == {403}
        assert run_cli(env, "orgs", "resume", acme["organization_id"]).returncode == 0
        assert statuses(30) == {200}
    finally:
        serve.terminate()
        serve.wait(timeout=30)
