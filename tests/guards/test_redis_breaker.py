"""A frozen Redis (SIGSTOP of a Redis this test starts) costs a request at most the Redis timeout,
once: the circuit breaker then lets rate limits and the auth throttle fail open without touching
Redis, /status shows it open, and once Redis answers again (SIGCONT) a probe closes it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from prometheus_client import REGISTRY

from tests.conftest import IN_CI, OPERATOR, build_app
from tests.contract import assert_error, assert_ok
from tests.factories import make_org
from tests.live_server import LiveServer

COOLDOWN_S = 2.0
BAD_KEY = "sk_live_" + "F" * 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A redis-server of this test only (never the machine's shared one), on a free port."""
    binary = shutil.which("redis-server")
    if binary is None:
        if IN_CI:
            pytest.fail("CI needs redis-server on PATH")
        pytest.skip("redis-server is not installed")
    port = free_port()
    options = ["--bind", "127.0.0.1", "--dir", str(tmp_path), "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(
        [binary, "--port", str(port), *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 15
    while True:
        try:
            if redis.Redis.from_url(url, socket_timeout=1).ping():
                break
        except redis.RedisError:
            pass
        assert process.poll() is None, "redis-server exited"
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    try:
        yield url, process
    finally:
        os.kill(process.pid, signal.SIGCONT)
        process.terminate()
        process.wait(15)


def timed(client: httpx.Client, path: str, key: str) -> tuple[float, httpx.Response]:
    started = time.monotonic()
    response = client.get(path, headers={"x-api-key": key})
    return time.monotonic() - started, response


def redis_component(client: httpx.Client) -> dict[str, Any]:
    status = assert_ok(client.get("/status", headers=OPERATOR))
    component: dict[str, Any] = status["components"]["redis"]
    return component | {"overall": status["status"]}


def test_a_frozen_redis_is_bypassed_and_then_used_again(
    database_url: str, own_redis: tuple[str, subprocess.Popen[bytes]]
) -> None:
    url, process = own_redis
    app = build_app(
        database_url,
        redis_url=url,
        redis_timeout_ms=200,
        redis_breaker_cooldown_s=COOLDOWN_S,
        auth_failure_limit="3/minute",
    )
    server = LiveServer(app).start()
    try:
        org = make_org(server)
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            for _ in range(3):
                assert_ok(timed(client, "/v3/me", org.live_key)[1])
            assert redis_component(client)["breaker"]["state"] == "closed"
            remaining = int(
                timed(client, "/v3/me", org.live_key)[1].headers["x-ratelimit-remaining"]
            )
            assert remaining < 200  # counted in Redis

            os.kill(process.pid, signal.SIGSTOP)
            frozen_at = time.monotonic()
            latencies = []
            for _ in range(12):
                elapsed, response = timed(client, "/v3/me", org.live_key)
                assert_ok(response)  # the limits fail open
                latencies.append(elapsed)
            assert max(latencies) < 1.5, latencies
            fast = [t for t in latencies[1:] if t < 0.5]
            assert len(fast) >= len(latencies[1:]) - 2, latencies  # only probes may wait
            # The auth throttle fails open too: a bad key is told it is bad, quickly.
            elapsed, response = timed(client, "/v3/me", BAD_KEY)
            assert_error(response, "AUTH_002")
            assert elapsed < 1.5

            component = redis_component(client)
            assert component["overall"] == "degraded"
            assert component["status"] == "unreachable"
            assert component["breaker"]["state"] == "open"
            assert component["breaker"]["since"]
            assert component["breaker"]["cooldown_s"] == COOLDOWN_S
            assert REGISTRY.get_sample_value("sentd_redis_breaker_open") == 1  # /metrics too
            assert time.monotonic() - frozen_at < COOLDOWN_S * 10  # the test was not just slow

            os.kill(process.pid, signal.SIGCONT)
            deadline = time.monotonic() + COOLDOWN_S + 15
            while redis_component(client)["breaker"]["state"] != "closed":
                assert time.monotonic() < deadline, "the breaker did not close"
                assert_ok(timed(client, "/v3/me", org.live_key)[1])
                time.sleep(0.1)
            component = redis_component(client)
            assert (component["status"], component["overall"]) == ("ok", "ok")
            assert REGISTRY.get_sample_value("sentd_redis_breaker_open") == 0
            # Counting resumed in Redis.
            first = timed(client, "/v3/me", org.live_key)[1].headers["x-ratelimit-remaining"]
            second = timed(client, "/v3/me", org.live_key)[1].headers["x-ratelimit-remaining"]
            assert int(second) == int(first) - 1
    finally:
        os.kill(process.pid, signal.SIGCONT)
        server.stop()
