"""Failed authentication is throttled per presented key, and per address for many distinct keys;
a valid key is never refused because of other keys' failures; X-Forwarded-For is believed only
from configured proxies."""

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


def bad_key() -> str:
    return "sk_live_" + uuid.uuid4().hex + "Z" * 8


def start(database_url: str, **settings: object) -> LiveServer:
    values: dict[str, object] = {
        "auth_failure_limit": "3/minute",
        "auth_failure_address_limit": "1000/minute",
    }
    return LiveServer(build_app(database_url, **(values | settings))).start()


def me(client: httpx.Client, key: str, **headers: str) -> httpx.Response:
    return client.get("/v3/me", headers={"x-api-key": key, **headers})


@pytest.fixture
def throttled_server(database_url: str) -> Iterator[LiveServer]:
    live = start(database_url)
    yield live
    live.stop()


def test_a_failing_key_is_throttled_and_nothing_else(throttled_server: LiveServer) -> None:
    org = make_org(throttled_server)
    with httpx.Client(base_url=throttled_server.base_url) as client:
        assert_ok(me(client, org.live_key))  # success: no count
        for _ in range(3):
            assert_error(me(client, BAD_KEY), "AUTH_002")
        response = me(client, BAD_KEY)
        error = assert_error(response, "BUSINESS_002")
        assert error["details"] == {
            "x-api-key": ["Too many failed authentication attempts with this key"]
        }
        assert 1 <= int(response.headers["retry-after"]) <= 60
        # A valid key from the same client is served, however often the bad one is tried.
        for _ in range(5):
            assert_error(me(client, BAD_KEY), "BUSINESS_002")
            assert_ok(me(client, org.live_key))
        # Another bad key has its own count: it is told it is wrong, not to wait.
        assert_error(me(client, bad_key()), "AUTH_002")
        # Unauthenticated routes are not affected.
        assert client.get("/healthcheck").status_code == 200


def test_many_distinct_bad_keys_from_one_address_meet_a_ceiling(database_url: str) -> None:
    server = start(database_url, auth_failure_address_limit="4/minute")
    try:
        org = make_org(server)
        with httpx.Client(base_url=server.base_url) as client:
            for _ in range(4):
                assert_error(me(client, bad_key()), "AUTH_002")
            response = me(client, bad_key())
            error = assert_error(response, "BUSINESS_002")
            assert error["details"] == {
                "x-api-key": ["Too many different failing keys from this address"]
            }
            assert 1 <= int(response.headers["retry-after"]) <= 60
            # The address may be shared (NAT, proxy): valid keys from it are still served.
            assert_ok(me(client, org.live_key))
            assert_ok(me(client, org.test_key))
    finally:
        server.stop()


def test_a_repeated_key_counts_once_against_the_address(database_url: str) -> None:
    server = start(
        database_url, auth_failure_limit="10/minute", auth_failure_address_limit="2/minute"
    )
    try:
        with httpx.Client(base_url=server.base_url) as client:
            for _ in range(6):  # one stale key retried: one distinct key for the address
                assert_error(me(client, BAD_KEY), "AUTH_002")
            assert_error(me(client, bad_key()), "AUTH_002")
            assert_error(me(client, bad_key()), "BUSINESS_002")
    finally:
        server.stop()


def test_forwarded_for_from_loopback_is_not_believed_by_default(database_url: str) -> None:
    server = start(database_url, auth_failure_address_limit="3/minute")
    try:
        org = make_org(server)
        with httpx.Client(base_url=server.base_url) as client:
            # Rotating X-Forwarded-For does not dodge the ceiling...
            for n in range(3):
                response = me(client, bad_key(), **{"x-forwarded-for": f"198.51.100.{n}"})
                assert_error(response, "AUTH_002")
            response = me(client, bad_key(), **{"x-forwarded-for": "198.51.100.9"})
            assert_error(response, "BUSINESS_002")
            # ...nor does naming a victim's address lock the victim out.
            assert_ok(me(client, org.live_key, **{"x-forwarded-for": "198.51.100.0"}))
    finally:
        server.stop()


def test_forwarded_for_is_believed_from_a_configured_proxy(database_url: str) -> None:
    server = start(
        database_url, auth_failure_address_limit="2/minute", forwarded_allow_ips="127.0.0.1"
    )
    try:
        with httpx.Client(base_url=server.base_url) as client:
            for n in range(4):  # four clients behind the proxy, one bad key each
                response = me(client, bad_key(), **{"x-forwarded-for": f"198.51.100.{n}"})
                assert_error(response, "AUTH_002")
            same = {"x-forwarded-for": "198.51.100.0"}
            assert_error(me(client, bad_key(), **same), "AUTH_002")
            assert_error(me(client, bad_key(), **same), "BUSINESS_002")
    finally:
        server.stop()


@pytest.mark.redis
def test_failures_are_shared_through_redis(database_url: str, redis_url: str) -> None:
    namespace = f"sentd-test-{uuid.uuid4().hex[:8]}"
    first = start(database_url, redis_url=redis_url, limits_namespace=namespace)
    second = start(database_url, redis_url=redis_url, limits_namespace=namespace)
    try:
        org = make_org(first)
        with httpx.Client() as client:
            for _ in range(3):
                response = client.get(f"{first.base_url}/v3/me", headers={"x-api-key": BAD_KEY})
                assert_error(response, "AUTH_002")
            response = client.get(f"{second.base_url}/v3/me", headers={"x-api-key": BAD_KEY})
            assert_error(response, "BUSINESS_002")
            response = client.get(f"{second.base_url}/v3/me", headers={"x-api-key": org.live_key})
            assert_ok(response)
    finally:
        first.stop()
        second.stop()
