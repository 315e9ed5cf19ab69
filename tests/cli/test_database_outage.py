"""PostgreSQL stopped and restarted under a running `sentd serve` (with its worker loops), on a
cluster this test owns.

While it is down, answers are fast and say "retry" (`Retry-After`, `x-should-retry: true`) and
`/health/ready` says why it is not ready; the worker loops back off instead of logging a
traceback per tick. When it is back, the server recovers by itself: its LISTEN connection
listens again, so a key revoked afterwards is refused at once, although the key cache's TTL is
far longer than the test."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.support import SENTD, cli_env, cli_json, free_port, run_cli, wait_healthy
from tests.conftest import OPERATOR
from tests.contract import assert_error, assert_ok
from tests.own_postgres import OwnPostgres

OUTAGE_S = 6.0
FAST_S = 3.0  # an answer while the database is down takes at most this long
JOBS = 12  # what retries on its own in `sentd serve`: loops, heartbeats, the LISTEN connection


@pytest.fixture
def postgres() -> Iterator[OwnPostgres]:
    cluster = OwnPostgres()
    try:
        yield cluster
    finally:
        cluster.close()


def wait_until(what: str, condition: Any, timeout: float, detail: Any = lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s\n{detail()}"
        time.sleep(0.1)


def get(url: str, **kwargs: Any) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=5, **kwargs)
    except httpx.TransportError:
        return None


def log_lines(path: Path) -> list[dict[str, Any]]:
    lines = []
    for line in path.read_text().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_database_restart_under_a_running_server(postgres: OwnPostgres, tmp_path: Path) -> None:
    url = postgres.create_database()
    env = cli_env(
        SENTD_DATABASE_URL=url,
        SENTD_DATA_DIR=str(tmp_path / "var"),
        SENTD_AUTH_CACHE_TTL_S="3600",  # only the NOTIFY can make a revocation immediate
        SENTD_LOG_JSON="true",
        SENTD_LOG_LEVEL="INFO",
    )
    demo = cli_json(env, "init", "--json")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("ab") as out:
        serve = subprocess.Popen(
            [SENTD, "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_healthy(base, serve)
        live, test = {"x-api-key": demo["live_key"]}, {"x-api-key": demo["test_key"]}
        assert_ok(httpx.get(f"{base}/v3/me", headers=live))  # cached from now on
        assert assert_ok(httpx.get(f"{base}/status", headers=OPERATOR))["components"][
            "notifications"
        ] == {"status": "listening"}

        postgres.stop()
        down_since = time.monotonic()
        while time.monotonic() - down_since < OUTAGE_S:
            started = time.monotonic()
            response = httpx.get(f"{base}/v3/me", headers=live, timeout=30)
            assert time.monotonic() - started < FAST_S
            assert_error(response, "INTERNAL_002")
            assert response.headers["x-should-retry"] == "true"
            assert int(response.headers["retry-after"]) > 0

            started = time.monotonic()
            ready = httpx.get(f"{base}/health/ready", timeout=30)
            assert time.monotonic() - started < FAST_S
            error = assert_error(ready, "INTERNAL_005")
            assert int(ready.headers["retry-after"]) > 0
            [reason] = error["details"]["database"]
            assert reason.startswith("The database is not reachable: "), reason
            assert "connection refused" in reason or "shutting down" in reason, reason
            time.sleep(0.5)
        assert httpx.get(f"{base}/health/live").status_code == 200

        postgres.start()
        wait_until(
            "ready again",
            lambda: (r := get(f"{base}/health/ready")) is not None and r.status_code == 200,
            60,
            lambda: log.read_text()[-3000:],
        )

        def listening() -> bool:
            r = get(f"{base}/status", headers=OPERATOR)
            return r is not None and r.json()["data"]["components"]["notifications"] == {
                "status": "listening"
            }

        wait_until("listening again", listening, 60, lambda: log.read_text()[-3000:])
        # Both keys work and are cached again; then one is revoked from another process.
        assert_ok(httpx.get(f"{base}/v3/me", headers=live))
        assert_ok(httpx.get(f"{base}/v3/me", headers=test))
        revoked = run_cli(env, "keys", "revoke", demo["test_key"])
        assert revoked.returncode == 0, revoked.stderr
        assert_error(httpx.get(f"{base}/v3/me", headers=test), "AUTH_002")
        assert_ok(httpx.get(f"{base}/v3/me", headers=live))
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait()

    # One traceback per job that failed (9 loops, 2 heartbeats, the listener), not one per tick
    # (before: ~30 a second); twice that leaves room for a job that recovered and failed again
    # while PostgreSQL was starting up.
    lines = log_lines(log)
    errors = [line for line in lines if line["level"] == "error"]
    warnings = [line for line in lines if line["level"] == "warning"]
    assert len(errors) <= 2 * JOBS, "\n".join(e["msg"] for e in errors)
    assert len(warnings) <= 150, "\n".join(w["msg"] for w in warnings[-40:])
    assert any("recovered" in line["msg"] for line in lines if line["level"] == "info")
