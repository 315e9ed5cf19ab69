"""Idempotency-Key: one execution per key, byte-identical replays, what is and is not stored."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from sentd.guards.idempotency import Claim
from tests.contract import assert_error, assert_ok
from tests.factories import Org, ledger_rows, make_org
from tests.live_server import LiveServer

URL = "/v3/_probe/credits"


def credit(client: httpx.Client, key: str | None, api_key: str, **body: Any) -> httpx.Response:
    headers = {"x-api-key": api_key}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(URL, json={"amount_micros": 1_000, **body}, headers=headers)


def new_key() -> str:
    return f"test-{uuid.uuid4().hex}"


def test_replay_is_byte_identical(server: LiveServer, client: httpx.Client) -> None:
    org, key = make_org(server), new_key()
    first = credit(client, key, org.live_key)
    assert_ok(first, 201)
    second = credit(client, key, org.live_key)
    assert second.status_code == 201
    assert second.content == first.content
    assert second.headers["content-type"] == first.headers["content-type"]
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["x-original-request-id"] == first.headers["x-request-id"]
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert "idempotent-replayed" not in first.headers
    assert ledger_rows(server, org) == 1


def test_a_different_body_still_gets_the_first_response(
    server: LiveServer, client: httpx.Client
) -> None:
    org, key = make_org(server), new_key()
    first = credit(client, key, org.live_key, amount_micros=1_000)
    second = credit(client, key, org.live_key, amount_micros=999_999)
    assert second.content == first.content
    assert ledger_rows(server, org) == 1


def test_without_a_key_every_request_runs(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    credit(client, None, org.live_key)
    credit(client, None, org.live_key)
    assert ledger_rows(server, org) == 2


def test_concurrent_requests_run_once(server: LiveServer) -> None:
    org, key = make_org(server), new_key()
    responses: list[httpx.Response] = []

    def send() -> None:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            responses.append(credit(client, key, org.live_key, sleep_in_transaction_s=0.5))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in responses)
    assert 201 in statuses and set(statuses) <= {201, 409}
    for response in responses:
        if response.status_code == 409:
            assert_error(response, "CONFLICT_001")
            assert response.headers["retry-after"] == "1"
            assert response.headers["x-should-retry"] == "true"
    assert ledger_rows(server, org) == 1
    with httpx.Client(base_url=server.base_url) as client:
        replay = credit(client, key, org.live_key)
    assert replay.headers["idempotent-replayed"] == "true"
    assert ledger_rows(server, org) == 1


def test_keys_are_scoped_per_customer_and_mode(server: LiveServer, client: httpx.Client) -> None:
    org, other, key = make_org(server), make_org(server), new_key()
    for api_key in (org.live_key, org.test_key, other.live_key):
        response = credit(client, key, api_key)
        assert_ok(response, 201)
        assert "idempotent-replayed" not in response.headers
    assert ledger_rows(server, org) == 2
    assert ledger_rows(server, other) == 1


def test_validation_errors_are_not_stored(server: LiveServer, client: httpx.Client) -> None:
    org, key = make_org(server), new_key()
    assert_error(credit(client, key, org.live_key, amount_micros=0), "VALIDATION_005")
    assert_ok(credit(client, key, org.live_key), 201)
    assert ledger_rows(server, org) == 1


@pytest.mark.parametrize("code", ["VALIDATION_002", "INTERNAL_001", "BUSINESS_002", "AUTH_004"])
def test_errors_that_are_not_decisions_are_not_stored(
    server: LiveServer, client: httpx.Client, code: str
) -> None:
    org, key = make_org(server), new_key()
    assert_error(credit(client, key, org.live_key, fail_with=code), code)
    assert ledger_rows(server, org) == 0  # the failed operation rolled back
    response = credit(client, key, org.live_key)
    assert_ok(response, 201)
    assert "idempotent-replayed" not in response.headers
    assert ledger_rows(server, org) == 1


@pytest.mark.parametrize("code", ["RESOURCE_001", "RESOURCE_007", "BUSINESS_003"])
def test_decided_errors_are_stored_and_replayed(
    server: LiveServer, client: httpx.Client, code: str
) -> None:
    org, key = make_org(server), new_key()
    first = credit(client, key, org.live_key, fail_with=code)
    assert_error(first, code)
    second = credit(client, key, org.live_key)  # a good body: the stored decision still answers
    assert second.status_code == first.status_code
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert ledger_rows(server, org) == 0


def test_records_expire_after_24_hours(server: LiveServer, client: httpx.Client) -> None:
    org, key = make_org(server), new_key()
    credit(client, key, org.live_key)
    clock = server.app.state.clock
    clock.advance(timedelta(hours=23, minutes=59))
    try:
        assert credit(client, key, org.live_key).headers.get("idempotent-replayed") == "true"
        clock.advance(timedelta(minutes=2))
        response = credit(client, key, org.live_key)
        assert "idempotent-replayed" not in response.headers
        assert ledger_rows(server, org) == 2
        clock.advance(timedelta(hours=24, minutes=1))
        removed = server.run(server.app.state.idempotency.delete_expired())
        assert removed >= 1
        assert idempotency_rows(server, org) == 0
    finally:
        clock.offset = timedelta(0)


def test_a_dead_claim_is_taken_over_after_its_lease(
    server: LiveServer, client: httpx.Client
) -> None:
    org, key = make_org(server), new_key()
    idempotency = server.app.state.idempotency
    from sentd.db.scope import Scope

    dead = Claim(Scope(org.id, True), key, "req_from_a_process_that_died")
    assert server.run(idempotency.begin(dead, method="POST", path=URL)) is None
    assert_error(credit(client, key, org.live_key), "CONFLICT_001")
    clock = server.app.state.clock
    clock.advance(timedelta(seconds=server.app.state.settings.idempotency_lease_s + 1))
    try:
        assert_ok(credit(client, key, org.live_key), 201)
    finally:
        clock.offset = timedelta(0)
    assert ledger_rows(server, org) == 1


@pytest.mark.parametrize("bad", ["", "a" * 256, "has space", "at@sign", "hash#", "naïve"])
def test_malformed_key_is_validation_007(
    server: LiveServer, client: httpx.Client, bad: str
) -> None:
    org = make_org(server)
    response = client.post(
        URL,
        json={"amount_micros": 1},
        headers={"x-api-key": org.live_key, "Idempotency-Key": bad.encode()},
    )
    assert_error(response, "VALIDATION_007")
    assert ledger_rows(server, org) == 0


def idempotency_rows(server: LiveServer, org: Org) -> int:
    async def go() -> int:
        async with server.app.state.db.connection() as conn:
            count: int = await conn.fetchval(
                "SELECT count(*) FROM idempotency_keys WHERE customer_id = $1", org.id
            )
            return count

    return server.run(go())


def test_a_key_belongs_to_one_operation(server: LiveServer, client: httpx.Client) -> None:
    org, key = make_org(server), new_key()
    first = credit(client, key, org.live_key)
    assert_ok(first, 201)
    headers = {"x-api-key": org.live_key, "Idempotency-Key": key}
    other = client.post("/v3/_probe/sensitive", json={}, headers=headers)
    error = assert_error(other, "IDEMPOTENCY_001")
    assert error["details"] == {
        "Idempotency-Key": [
            f"This key was first used for POST {URL}; use a new key for POST /v3/_probe/sensitive"
        ]
    }
    assert "idempotent-replayed" not in other.headers
    # Refused, not stored: the key still answers its own operation, once.
    replay = credit(client, key, org.live_key)
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.content == first.content
    assert ledger_rows(server, org) == 1


def test_a_key_in_flight_on_another_operation_is_422_not_409(server: LiveServer) -> None:
    org, key = make_org(server), new_key()
    done: list[httpx.Response] = []

    def slow() -> None:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            done.append(credit(client, key, org.live_key, sleep_in_transaction_s=1.0))

    thread = threading.Thread(target=slow)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while idempotency_rows(server, org) == 0:
            assert time.monotonic() < deadline, "the first request never claimed the key"
            time.sleep(0.02)
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            headers = {"x-api-key": org.live_key, "Idempotency-Key": key}
            response = client.post("/v3/_probe/sensitive", json={}, headers=headers)
        assert_error(response, "IDEMPOTENCY_001")
    finally:
        thread.join()
    assert_ok(done[0], 201)
