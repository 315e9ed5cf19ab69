"""x-api-key authentication: missing, unknown, malformed, expired and revoked keys."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from sentd.services import keys
from tests.contract import assert_error, assert_ok
from tests.factories import make_key, make_org
from tests.live_server import LiveServer


def me(client: httpx.Client, key: str | None, **headers: str) -> httpx.Response:
    if key is not None:
        headers["x-api-key"] = key
    return client.get("/v3/me", headers=headers)


def test_missing_key_is_auth_001(client: httpx.Client) -> None:
    error = assert_error(me(client, None), "AUTH_001")
    assert error["details"] == {"x-api-key": ["The x-api-key header is missing"]}


def test_empty_key_is_auth_001(client: httpx.Client) -> None:
    assert_error(me(client, ""), "AUTH_001")


@pytest.mark.parametrize(
    "key",
    [
        "sk_live_" + "A" * 40,  # well formed, never issued
        "sk_test_" + "b" * 40,
        "not-a-key",
        "sk_live_short",
        "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    ],
)
def test_unknown_or_malformed_key_is_auth_002(client: httpx.Client, key: str) -> None:
    error = assert_error(me(client, key), "AUTH_002")
    assert error["details"] is None


def test_header_name_is_case_insensitive(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    assert_ok(client.get("/v3/me", headers={"X-API-KEY": org.live_key}))


def test_expired_key_is_auth_002(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    key = make_key(server, org, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert_error(me(client, key), "AUTH_002")


def test_key_stops_working_when_it_expires_even_if_cached(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    expires_at = datetime.now(UTC) + timedelta(seconds=1.5)
    key = make_key(server, org, expires_at=expires_at)
    assert_ok(me(client, key))  # now cached by the server
    time.sleep(max(0.0, (expires_at - datetime.now(UTC)).total_seconds()) + 0.1)
    assert_error(me(client, key), "AUTH_002")


def test_revoked_key_fails_at_once(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    key = make_key(server, org)
    assert_ok(me(client, key))  # cached
    record = server.run(keys.revoke(server.app.state.db, key))
    assert record is not None and record["revoked_at"] is not None
    # The NOTIFY reaches the server's listener within milliseconds, far inside the cache TTL (5 s).
    deadline = time.monotonic() + 1.0
    while me(client, key).status_code != 401:
        assert time.monotonic() < deadline, "the revoked key still works"
        time.sleep(0.01)
    assert_error(me(client, key), "AUTH_002")
    assert_ok(me(client, org.live_key))  # other keys of the org still work


def test_revoke_by_id(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    db = server.app.state.db
    issued = server.run(keys.create(db, customer_id=org.id, user_email=None, livemode=True))
    assert_ok(me(client, issued.plaintext))
    cached_at = time.monotonic()
    server.run(keys.revoke(db, str(issued.record["id"])))
    # The cached key is dropped when the revocation's NOTIFY arrives (milliseconds), long
    # before the cache's 5 s would let it lapse.
    while me(client, issued.plaintext).status_code != 401:
        assert time.monotonic() - cached_at < 2.5, "the revocation did not reach the cache"
        time.sleep(0.02)
    assert_error(me(client, issued.plaintext), "AUTH_002")
