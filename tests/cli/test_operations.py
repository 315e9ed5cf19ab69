"""Operator commands (`maintenance`, `accounts set-plan`) and graceful shutdown of `sentd serve`."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.cli.support import SENTD, free_port, run_cli, wait_healthy
from tests.contract import assert_error, assert_ok
from tests.factories import SHOP_PROFILE


def test_maintenance_on_and_off(
    env: dict[str, str], demo: dict[str, Any], http: httpx.Client
) -> None:
    headers = {"x-api-key": demo["live_key"]}
    assert run_cli(env, "maintenance", "on").returncode == 0
    deadline = time.monotonic() + 10
    while http.get("/v3/me", headers=headers).status_code != 503:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert_error(http.get("/v3/me", headers=headers), "INTERNAL_005")
    assert http.get("/health/ready").status_code == 200
    assert run_cli(env, "maintenance", "off").returncode == 0
    while http.get("/v3/me", headers=headers).status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    bad = run_cli(env, "maintenance", "maybe")
    assert bad.returncode == 1 and "error: say on or off" in bad.stderr


def test_set_plan_overrides_limits(
    env: dict[str, str], demo: dict[str, Any], http: httpx.Client
) -> None:
    org = demo["organization_id"]
    result = run_cli(env, "accounts", "set-plan", org, "growth", "--requests-per-minute", "2")
    assert result.returncode == 0, result.stderr
    assert "plan growth" in result.stdout
    assert "messages_per_minute    300" in result.stdout
    assert "requests_per_minute    2 (override)" in result.stdout
    key = demo["test_key"]  # not used yet, so not cached with the old limits
    assert http.get("/v3/me", headers={"x-api-key": key}).headers["x-ratelimit-limit"] == "2"
    assert_ok(http.get("/v3/me", headers={"x-api-key": key}))
    assert_error(http.get("/v3/me", headers={"x-api-key": key}), "BUSINESS_002")
    assert run_cli(env, "accounts", "set-plan", org, "platinum").returncode == 1


def test_a_plan_change_applies_at_once_to_cached_keys(
    env: dict[str, str], demo: dict[str, Any], http: httpx.Client
) -> None:
    """The server caches keys (and their limits) for 300 s here: only the NOTIFY sent with the
    change can make the new limits apply within the test's deadline."""
    org, headers = demo["organization_id"], {"x-api-key": demo["live_key"]}
    assert http.get("/v3/me", headers=headers).headers["x-ratelimit-limit"] == "200"
    create = lambda phone: http.post(  # noqa: E731
        "/v3/contacts", json={"phone_number": phone}, headers=headers
    )
    assert_ok(create("+14155550171"), 201)
    result = run_cli(
        env, "accounts", "set-plan", org, "--contacts", "1", "--requests-per-minute", "50"
    )
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 3
    while http.get("/v3/me", headers=headers).headers["x-ratelimit-limit"] != "50":
        assert time.monotonic() < deadline, "the cached key still carries the old limits"
        time.sleep(0.05)
    error = assert_error(create("+14155550172"), "BUSINESS_008")
    assert error["details"] == {"contacts": ["The contacts quota is 1; 1 in use, 1 more requested"]}


def test_sigterm_finishes_in_flight_requests_and_exits_0(
    env: dict[str, str], demo: dict[str, Any], db_url: str, tmp_path: Path
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [SENTD, "serve", "--port", str(port), "--no-worker"], env=env, stdout=log, stderr=log
    )
    try:
        wait_healthy(base_url, serve)
        responses: list[httpx.Response] = []
        with psycopg.connect(db_url) as lock:
            # Hold a lock that the key lookup must wait for: the request is now in flight.
            lock.execute("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE")

            def call() -> None:
                responses.append(
                    httpx.get(
                        f"{base_url}/v3/me", headers={"x-api-key": demo["live_key"]}, timeout=30
                    )
                )

            caller = threading.Thread(target=call)
            caller.start()
            time.sleep(0.5)
            serve.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            assert serve.poll() is None, "sentd exited before finishing the in-flight request"
            with pytest.raises(httpx.ConnectError):  # no longer accepting
                httpx.get(f"{base_url}/healthcheck", timeout=2)
            lock.rollback()  # release the lock: the request completes
        caller.join(timeout=30)
        assert len(responses) == 1
        assert_ok(responses[0])
        assert serve.wait(timeout=30) == 0
    finally:
        if serve.poll() is None:
            serve.kill()
        log.close()


def test_profiles_review_by_hand(
    env: dict[str, str], demo: dict[str, Any], http: httpx.Client
) -> None:
    headers = {"x-api-key": demo["live_key"]}
    profile = assert_ok(http.post("/v3/profiles", json=SHOP_PROFILE, headers=headers), 201)["id"]
    not_yet = run_cli(env, "profiles", "review", profile, "--approve")
    assert not_yet.returncode == 1 and "not awaiting review" in not_yet.stderr
    complete = {"webHookUrl": "http://127.0.0.1:9/hook"}  # loopback and closed
    assert_ok(http.post(f"/v3/profiles/{profile}/complete", json=complete, headers=headers), 202)
    both = run_cli(env, "profiles", "review", profile, "--approve", "--reject", "no")
    assert both.returncode == 1
    result = run_cli(env, "profiles", "review", profile, "--reject", "Brand unclear")
    assert result.returncode == 0, result.stderr
    assert "rejected" in result.stdout
    data = assert_ok(http.get(f"/v3/profiles/{profile}", headers=headers))
    assert data["status"] == "rejected"
