"""Rate limits per organization and mode: headers, 429 BUSINESS_002, bursts, shared via Redis."""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests import databases
from tests.conftest import IN_CI, OPERATOR, build_app
from tests.contract import assert_error, assert_ok
from tests.factories import make_org, make_profile, set_limits
from tests.live_server import LiveServer


def me(client: httpx.Client, key: str, **headers: str) -> httpx.Response:
    return client.get("/v3/me", headers={"x-api-key": key, **headers})


def test_headers_on_every_authenticated_response(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    first, second = me(client, org.live_key), me(client, org.live_key)
    assert first.headers["x-ratelimit-limit"] == "200"
    assert (
        int(second.headers["x-ratelimit-remaining"])
        == int(first.headers["x-ratelimit-remaining"]) - 1
    )
    reset = int(first.headers["x-ratelimit-reset"])
    assert time.time() < reset <= time.time() + 61
    assert "x-ratelimit-limit" not in client.get("/healthcheck").headers


def test_over_the_minute_limit_is_429(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    set_limits(server, org, requests_per_minute=3)
    for remaining in (2, 1, 0):
        assert me(client, org.live_key).headers["x-ratelimit-remaining"] == str(remaining)
    response = me(client, org.live_key)
    error = assert_error(response, "BUSINESS_002")
    assert "rate_limit" in error["details"]
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["x-ratelimit-limit"] == "3"
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert error["details"] == {"rate_limit": ["More than 3 standard requests a minute"]}
    # Test mode has a pool of its own.
    assert_ok(me(client, org.test_key))


def test_burst_is_limited_per_second(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    set_limits(server, org, requests_burst=2)
    statuses = [me(client, org.live_key).status_code for _ in range(3)]
    if statuses != [200, 200, 429]:  # the three may straddle a second boundary on a slow box
        statuses = [me(client, org.live_key).status_code for _ in range(3)]
    assert 429 in statuses
    time.sleep(1.1)
    assert_ok(me(client, org.live_key))


def test_a_burst_refusal_describes_the_burst_window(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    set_limits(server, org, requests_burst=2)
    first = me(client, org.live_key)
    assert first.status_code == 200
    refused = None
    deadline = time.monotonic() + 10
    while refused is None:  # three requests inside one second (a slow box may straddle two)
        assert time.monotonic() < deadline, "no burst refusal"
        responses = [me(client, org.live_key) for _ in range(3)]
        refused = next((r for r in responses if r.status_code == 429), None)
    error = assert_error(refused, "BUSINESS_002")
    assert error["details"] == {"rate_limit": ["More than 2 standard requests a second"]}
    assert refused.headers["x-ratelimit-limit"] == "2"
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert time.time() - 1 <= int(refused.headers["x-ratelimit-reset"]) <= time.time() + 2
    assert refused.headers["retry-after"] == "1"
    assert first.headers["x-ratelimit-limit"] == "200"  # an allowed request: the minute


def test_profiles_share_the_organizations_pool(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    profile = make_profile(server, org)
    set_limits(server, org, requests_per_minute=2)
    assert_ok(me(client, org.live_key))
    assert_ok(me(client, org.live_key, **{"x-profile-id": str(profile["id"])}))
    assert_error(me(client, org.live_key, **{"x-profile-id": str(profile["id"])}), "BUSINESS_002")


def test_sensitive_routes_have_their_own_lower_limit(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    headers = {"x-api-key": org.live_key}
    responses = [client.post("/v3/_probe/sensitive", json={}, headers=headers) for _ in range(6)]
    assert [r.status_code for r in responses[:5]] == [200] * 5
    assert responses[0].headers["x-ratelimit-limit"] == "10"
    assert_error(responses[5], "BUSINESS_002")
    assert_ok(me(client, org.live_key))  # standard routes are a separate pool


def test_messages_are_counted_by_cost(server: LiveServer) -> None:
    org = make_org(server)
    set_limits(server, org, messages_per_minute=10)
    principal = server.run(server.app.state.authenticator.authenticate(org.live_key))
    limiter = server.app.state.rate_limiter
    assert server.run(limiter.hit_messages(principal, 6)).remaining == 4
    blocked = server.run(limiter.hit_messages(principal, 5))
    assert not blocked.allowed and blocked.retry_after is not None and blocked.retry_after >= 1
    assert server.run(limiter.hit_messages(principal, 4)).remaining == 0


@pytest.mark.redis
def test_limits_are_shared_by_processes_through_redis(database_url: str, redis_url: str) -> None:
    namespace = f"sentd-test-{uuid.uuid4().hex[:8]}"
    first = LiveServer(
        build_app(database_url, redis_url=redis_url, limits_namespace=namespace)
    ).start()
    second = LiveServer(
        build_app(database_url, redis_url=redis_url, limits_namespace=namespace)
    ).start()
    try:
        org = make_org(first)
        set_limits(first, org, requests_per_minute=3)
        with httpx.Client() as client:
            get = lambda base: client.get(f"{base}/v3/me", headers={"x-api-key": org.live_key})  # noqa: E731
            assert_ok(get(first.base_url))
            assert_ok(get(second.base_url))
            assert get(first.base_url).headers["x-ratelimit-remaining"] == "0"
            assert_error(get(second.base_url), "BUSINESS_002")
    finally:
        first.stop()
        second.stop()


@pytest.fixture
def redis_socket() -> Iterator[Path]:
    """A Redis of its own listening on a Unix socket only (`redis-server` on PATH: required in
    CI, skipped with a reason elsewhere)."""
    binary = shutil.which("redis-server")
    if binary is None:
        if IN_CI:
            pytest.fail("CI needs redis-server on PATH")
        pytest.skip("redis-server is not on PATH")
    with tempfile.TemporaryDirectory(dir="/tmp") as directory:  # a socket's path is short
        socket = Path(directory) / "redis.sock"
        args = ["--port", "0", "--unixsocket", str(socket), "--save", "", "--appendonly", "no"]
        server = subprocess.Popen([binary, *args], stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while not socket.exists():
                assert server.poll() is None, "redis-server exited"
                assert time.monotonic() < deadline, "redis-server did not open its socket"
                time.sleep(0.05)
            yield socket
        finally:
            server.terminate()
            server.wait(timeout=10)


def test_limits_are_counted_in_a_redis_on_a_unix_socket(
    database_url: str, redis_socket: Path
) -> None:
    """SENTD_REDIS_URL=unix:///path: the counters live in that Redis (a co-located Redis
    without TCP), and the API refuses what they refuse."""
    server = LiveServer(build_app(database_url, redis_url=f"unix://{redis_socket}")).start()
    try:
        org = make_org(server)
        set_limits(server, org, requests_per_minute=2)
        with httpx.Client(base_url=server.base_url) as client:
            assert_ok(me(client, org.live_key))
            assert_ok(me(client, org.live_key))
            assert_error(me(client, org.live_key), "BUSINESS_002")
            status = assert_ok(client.get("/status", headers=OPERATOR))
            assert status["components"]["redis"]["status"] == "ok"
        keys = subprocess.run(
            ["redis-cli", "-s", str(redis_socket), "--scan"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert keys, "nothing was counted in the Redis of the socket"
    finally:
        server.stop()


def test_a_restart_does_not_count_processes_that_died_before_it(
    admin_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A process killed with SIGKILL leaves a fresh heartbeat row; the server started after it
    neither warns about it nor lists it once the row is stale."""
    url = databases.create_database(admin_url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO worker_heartbeats (loop_name, process) VALUES ('api', 'gone:1:dead')"
        )
    try:
        with caplog.at_level(logging.WARNING, logger="sentd.workers"):
            server = LiveServer(build_app(url)).start()
            try:

                async def beats() -> int:
                    async with server.app.state.db.connection() as conn:
                        n: int = await conn.fetchval(
                            "SELECT count(*) FROM worker_heartbeats WHERE loop_name = 'api' "
                            "AND process <> 'gone:1:dead' AND last_beat_at > "
                            "(SELECT last_beat_at FROM worker_heartbeats "
                            "WHERE process = 'gone:1:dead') + interval '4 seconds'"
                        )
                    return n

                deadline = time.monotonic() + 30
                while server.run(beats()) == 0:  # a second beat, at least: it has looked
                    assert time.monotonic() < deadline, "the server does not beat"
                    time.sleep(0.2)
            finally:
                server.stop()
        assert "other API process" not in caplog.text
    finally:
        databases.drop_database(admin_url, url)


def test_warns_when_processes_share_a_database_without_redis(
    admin_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = databases.create_database(admin_url)
    first = LiveServer(build_app(url)).start()
    try:
        with caplog.at_level(logging.WARNING, logger="sentd.workers"):
            second = LiveServer(build_app(url)).start()
            try:
                deadline = time.monotonic() + 12
                while "rate limits and the auth-failure throttle are counted per process" not in (
                    caplog.text
                ):
                    assert time.monotonic() < deadline, "no warning about per-process limits"
                    time.sleep(0.1)
                with httpx.Client(base_url=second.base_url) as client:
                    status = assert_ok(client.get("/status", headers=OPERATOR))
                assert len(status["components"]["api_processes"]["alive"]) == 2
            finally:
                second.stop()
    finally:
        first.stop()
        databases.drop_database(admin_url, url)


def test_unreachable_redis_fails_open(database_url: str) -> None:
    """Counters in a Redis that does not answer must not take the API down: requests go
    through, and /status says the deployment is degraded."""
    server = LiveServer(build_app(database_url, redis_url="redis://127.0.0.1:1/0")).start()
    try:
        org = make_org(server)
        with httpx.Client(base_url=server.base_url) as client:
            assert_ok(client.get("/v3/me", headers={"x-api-key": org.live_key}))
            assert_error(
                client.get("/v3/me", headers={"x-api-key": "sk_live_" + "Q" * 40}), "AUTH_002"
            )
            status = assert_ok(client.get("/status", headers=OPERATOR))
            assert status["status"] == "degraded"
            assert status["components"]["redis"]["status"] == "unreachable"
    finally:
        server.stop()
