"""The `sentd` console script, run as a real subprocess against a fresh database.

Most tests point SENTD_DATABASE_URL at a database of their own on the test server;
`test_embedded_lifecycle` leaves it unset, so sentd runs (and must stop) its embedded PostgreSQL
under SENTD_DATA_DIR.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg

from sentd.services.accounts import DEMO_OWNER_EMAIL
from tests.cli.support import (
    DEMO_MICROS,
    EXPIRED,
    SENTD,
    cli_env,
    cli_json,
    free_port,
    run_cli,
    wait_healthy,
)
from tests.contract import assert_error, assert_ok


def me(http: httpx.Client, key: str) -> httpx.Response:
    return http.get("/v3/me", headers={"x-api-key": key})


def me_data(http: httpx.Client, key: str) -> dict[str, Any]:
    data: dict[str, Any] = assert_ok(me(http, key))
    return data


def assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert_error(response, "AUTH_002")


def organization_count(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM customers WHERE kind = 'organization'").fetchone()
    assert row is not None
    return int(row[0])


def test_init_bootstraps_once_and_new_keys_issues_a_fresh_pair(
    env: dict[str, str], db_url: str
) -> None:
    migrated = run_cli(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr

    first = cli_json(env, "init", "--json")
    assert set(first) == {
        "organization_id",
        "owner_email",
        "live_key",
        "test_key",
        "dashboard_url",
        "owner_password_link",
    }
    assert first["dashboard_url"].endswith("/dashboard")
    assert "/dashboard/password/set?token=" in first["owner_password_link"]
    uuid.UUID(first["organization_id"])
    assert first["owner_email"] == DEMO_OWNER_EMAIL
    assert first["live_key"].startswith("sk_live_")
    assert first["test_key"].startswith("sk_test_")

    second = cli_json(env, "init", "--json")
    link = second.pop("owner_password_link")
    assert second == {
        "organization_id": first["organization_id"],
        "owner_email": first["owner_email"],
        "live_key": None,
        "test_key": None,
        "dashboard_url": first["dashboard_url"],
    }
    # The owner still has no password, so each run prints a fresh sign-in link.
    assert "/dashboard/password/set?token=" in link and link != first["owner_password_link"]
    assert organization_count(db_url) == 1

    third = cli_json(env, "init", "--json", "--new-keys")
    assert third["organization_id"] == first["organization_id"]
    assert third["live_key"].startswith("sk_live_")
    assert third["test_key"].startswith("sk_test_")
    assert {third["live_key"], third["test_key"]}.isdisjoint({first["live_key"], first["test_key"]})
    assert organization_count(db_url) == 1


def test_init_keys_authenticate_over_http(demo: dict[str, Any], http: httpx.Client) -> None:
    test = me_data(http, demo["test_key"])
    assert test["id"] == demo["organization_id"]
    assert test["mode"] == "test"
    assert test["balance"]["amount"] == 25.0
    assert test["balance"]["currency"] == "USD"

    live = me_data(http, demo["live_key"])
    assert live["id"] == demo["organization_id"]
    assert live["mode"] == "live"
    assert live["balance"]["amount"] == 25.0


def test_billing_credit(env: dict[str, str], demo: dict[str, Any], http: httpx.Client) -> None:
    org = demo["organization_id"]

    def balances() -> tuple[int, int]:
        test = me_data(http, demo["test_key"])["balance"]["amount_micros"]
        live = me_data(http, demo["live_key"])["balance"]["amount_micros"]
        return test, live

    assert balances() == (DEMO_MICROS, DEMO_MICROS)
    credited = run_cli(env, "billing", "credit", org, "0.05", "--mode", "test")
    assert credited.returncode == 0, credited.stderr
    assert "25.050000 USD" in credited.stdout
    assert balances() == (DEMO_MICROS + 50_000, DEMO_MICROS)

    # `--` lets a negative number reach the amount parser instead of the option parser.
    for amount in (["abc"], ["--", "-1"]):
        bad = run_cli(env, "billing", "credit", "--mode", "test", org, *amount)
        assert bad.returncode != 0, amount
        assert "error:" in bad.stderr, (amount, bad.stderr)
    # Without `--` click takes `-1` for an unknown option: a usage error, still no credit.
    bare = run_cli(env, "billing", "credit", org, "-1")
    assert bare.returncode != 0
    assert "error" in bare.stderr.lower()

    unknown = run_cli(env, "billing", "credit", str(uuid.uuid4()), "1")
    assert unknown.returncode != 0
    assert "error: no customer" in unknown.stderr
    not_uuid = run_cli(env, "billing", "credit", "not-a-uuid", "1")
    assert not_uuid.returncode != 0
    assert "error:" in not_uuid.stderr

    assert balances() == (DEMO_MICROS + 50_000, DEMO_MICROS)


def test_keys_create_list_revoke(
    env: dict[str, str], demo: dict[str, Any], http: httpx.Client
) -> None:
    created = cli_json(env, "keys", "create", "--mode", "test", "--json")
    assert created["key"].startswith("sk_test_")
    assert created["prefix"] == created["key"][:12]
    assert (created["mode"], created["state"]) == ("test", "active")
    assert created["customer_id"] == demo["organization_id"]
    data = me_data(http, created["key"])
    assert (data["id"], data["mode"]) == (demo["organization_id"], "test")

    expired = run_cli(env, "keys", "create", "--expires-at", EXPIRED)
    assert expired.returncode == 0, expired.stderr
    expired_key = expired.stdout.strip()
    assert expired_key.startswith("sk_live_")
    assert_unauthenticated(me(http, expired_key))

    listed = run_cli(env, "keys", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    plaintexts = [demo["live_key"], demo["test_key"], created["key"], expired_key]
    for plaintext in plaintexts:
        assert plaintext not in listed.stdout
        assert plaintext not in listed.stderr
    rows = json.loads(listed.stdout)
    assert len(rows) == 4
    assert all({"id", "prefix", "mode", "state"} <= set(row) for row in rows)
    by_prefix = {row["prefix"]: row for row in rows}
    assert {(r["mode"], r["state"]) for r in rows if r["prefix"] != expired_key[:12]} == {
        ("live", "active"),
        ("test", "active"),
    }
    assert (by_prefix[expired_key[:12]]["mode"], by_prefix[expired_key[:12]]["state"]) == (
        "live",
        "expired",
    )

    # Used once, so the server has it cached; the revocation must reach that cache at once.
    victim = demo["test_key"]
    assert me_data(http, victim)["mode"] == "test"
    revoked = run_cli(env, "keys", "revoke", victim)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.startswith("revoked ")
    assert victim not in revoked.stdout
    assert_unauthenticated(me(http, victim))
    assert me_data(http, demo["live_key"])["mode"] == "live"  # the other keys still work

    after = cli_json(env, "keys", "list", "--json")
    assert {row["prefix"]: row["state"] for row in after}[victim[:12]] == "revoked"

    missing = run_cli(env, "keys", "revoke", str(uuid.uuid4()))
    assert missing.returncode != 0
    assert "error: no such key" in missing.stderr


def test_db_url_prints_the_configured_database(env: dict[str, str], db_url: str) -> None:
    result = run_cli(env, "db", "url")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == db_url


def test_commands_other_than_migrate_and_init_need_a_migrated_schema(env: dict[str, str]) -> None:
    result = run_cli(env, "keys", "list", "--json")
    assert result.returncode == 1
    assert "error: the database schema is at nothing" in result.stderr
    assert "sentd migrate" in result.stderr


def test_unreachable_database_is_a_clean_error(tmp_path: Path) -> None:
    env = cli_env(
        SENTD_DATABASE_URL=f"postgresql://sentd@127.0.0.1:{free_port()}/sentd",
        SENTD_DATA_DIR=str(tmp_path),
    )
    for args in (["keys", "list"], ["migrate"]):
        result = run_cli(env, *args)
        assert result.returncode == 1, args
        assert "error: cannot reach the database" in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr, args


# Embedded PostgreSQL.


def postmasters(pgdata: Path) -> list[int]:
    """Pids of processes whose command line has `-D <pgdata>`."""
    target = os.path.normpath(pgdata)
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = [os.fsdecode(a) for a in (proc / "cmdline").read_bytes().split(b"\0")]
        except OSError:
            continue
        pairs = itertools.pairwise(args)
        if any(flag == "-D" and os.path.normpath(path) == target for flag, path in pairs if path):
            found.append(int(proc.name))
    return found


def assert_stopped(pgdata: Path, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while (left := postmasters(pgdata)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"PostgreSQL for {pgdata} still running: pids {left}"


def test_embedded_lifecycle(tmp_path: Path) -> None:
    data_dir = (tmp_path / "d").resolve()
    pgdata = data_dir / "pg"
    env = cli_env(SENTD_DATA_DIR=str(data_dir))
    assert "SENTD_DATABASE_URL" not in env
    serve: subprocess.Popen[bytes] | None = None
    try:
        started = run_cli(env, "init", "--json")
        assert started.returncode == 0, started.stderr
        assert f"Starting the embedded PostgreSQL in {pgdata}" in started.stderr
        demo = json.loads(started.stdout)
        assert demo["live_key"].startswith("sk_live_")
        assert demo["test_key"].startswith("sk_test_")
        assert (pgdata / "PG_VERSION").exists()
        assert_stopped(pgdata)

        printed = run_cli(env, "db", "url")
        assert printed.returncode == 0, printed.stderr
        uri = printed.stdout.strip()
        assert uri.startswith("postgresql://")
        (host,) = parse_qs(urlsplit(uri).query)["host"]
        assert Path(host).resolve().is_relative_to(data_dir), uri
        assert_stopped(pgdata)

        # A long-lived holder keeps the server up across a short-lived CLI command.
        base_url = f"http://127.0.0.1:{free_port()}"
        with (tmp_path / "serve.log").open("wb") as log:
            serve = subprocess.Popen(
                [SENTD, "serve", "--port", base_url.rsplit(":", 1)[1], "--no-worker"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_healthy(base_url, serve)
        assert postmasters(pgdata), "sentd serve is up but no postmaster was found"

        joined = run_cli(env, "keys", "list", "--json")
        assert joined.returncode == 0, joined.stderr
        assert f"Joining the embedded PostgreSQL running in {pgdata}" in joined.stderr
        assert "Starting" not in joined.stderr
        keys = json.loads(joined.stdout)
        assert {row["mode"] for row in keys} == {"live", "test"}
        assert serve.poll() is None
        assert httpx.get(f"{base_url}/health/ready", timeout=10).status_code == 200
        assert postmasters(pgdata)

        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=30) == 0, (tmp_path / "serve.log").read_text()
        assert_stopped(pgdata)
    finally:
        if serve is not None and serve.poll() is None:
            serve.kill()
            serve.wait(timeout=30)
        for pid in postmasters(pgdata):  # only a failed test leaves one; it is ours to stop
            os.kill(pid, signal.SIGINT)


def test_init_says_what_the_live_key_does(env: dict[str, str]) -> None:
    plain = run_cli(env, "init")
    assert plain.returncode == 0, plain.stderr
    assert "live key      sk_live_" in plain.stdout
    assert "live-key sends are refused (422 PROVIDER_003)" in plain.stdout
    assert "SENTD_SMS_PROVIDER" in plain.stdout
    demo = run_cli(env | {"SENTD_SMS_PROVIDER": "simulator"}, "init", "--new-keys")
    assert "Live sending: sms via simulator; live sends on mms, whatsapp, rcs are refused" in (
        demo.stdout
    )
