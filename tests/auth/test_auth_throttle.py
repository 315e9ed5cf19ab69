"""Repeated failed authentication from one client is throttled with 429 BUSINESS_002."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import build_app
from tests.contract import assert_error, assert_ok
from tests.factories import make_org
from tests.live_server import LiveServer

BAD_KEY = "sk_live_" + "Z" * 40


def start(database_url: str, **settings: object) -> LiveServer:
    return LiveServer(build_app(database_url, auth_failure_limit="3/minute", **settings)).start()


@pytest.fixture
def throttled_server(database_url: str) -> Iterator[LiveServer]:
    live = start(database_url)
    yield live
    live.stop()


def test_fourth_failure_is_throttled(throttled_server: LiveServer) -> None:
    org = make_org(throttled_server)
    with httpx.Client(base_url=throttled_server.base_url) as client:
        assert_ok(client.get("/v3/me", headers={"x-api-key": org.live_key}))  # success: no count
        for _ in range(3):
            assert_error(client.get("/v3/me", headers={"x-api-key": BAD_KEY}), "AUTH_002")
        response = client.get("/v3/me", headers={"x-api-key": BAD_KEY})
        error = assert_error(response, "BUSINESS_002")
        assert "x-api-key" in error["details"]
        assert 1 <= int(response.headers["retry-after"]) <= 60
        # While throttled, even a good key from that client waits.
        assert_error(client.get("/v3/me", headers={"x-api-key": org.live_key}), "BUSINESS_002")
        # Unauthenticated routes are not affected.
        assert client.get("/healthcheck").status_code == 200


@pytest.mark.redis
def test_failures_are_shared_through_redis(database_url: str, redis_url: str) -> None:
    namespace = f"sentd-test-{uuid.uuid4().hex[:8]}"
    first = start(database_url, redis_url=redis_url, limits_namespace=namespace)
    second = start(database_url, redis_url=redis_url, limits_namespace=namespace)
    try:
        with httpx.Client() as client:
            for _ in range(3):
                response = client.get(f"{first.base_url}/v3/me", headers={"x-api-key": BAD_KEY})
                assert_error(response, "AUTH_002")
            response = client.get(f"{second.base_url}/v3/me", headers={"x-api-key": BAD_KEY})
            assert_error(response, "BUSINESS_002")
    finally:
        first.stop()
        second.stop()
