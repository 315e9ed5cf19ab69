"""The official SDK's retry policy against sentd's hints: it retries CONFLICT_001 (409,
x-should-retry: true, Retry-After: 1) and then gets the completed result."""

from __future__ import annotations

import threading
import time

import httpx
import sent_dm

from tests.factories import ledger_rows, make_org
from tests.live_server import LiveServer
from tests.sdk.conftest import SdkFactory

URL = "/v3/_probe/credits"


def test_sdk_retries_a_conflict_and_gets_the_replay(server: LiveServer, sdk: SdkFactory) -> None:
    org = make_org(server)
    key = "sdk-retry-1"
    headers = {"x-api-key": org.live_key, "Idempotency-Key": key}
    first: list[httpx.Response] = []

    def slow_first() -> None:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            body = {"amount_micros": 1_000, "sleep_in_transaction_s": 0.6}
            first.append(client.post(URL, json=body, headers=headers))

    thread = threading.Thread(target=slow_first)
    thread.start()
    time.sleep(0.2)  # the first request now holds the key
    client = sdk(org.live_key)
    started = time.monotonic()
    response = client.post(
        URL,
        cast_to=httpx.Response,
        body={"amount_micros": 1_000},
        options={"headers": {"Idempotency-Key": key}},
    )
    elapsed = time.monotonic() - started
    thread.join()
    assert first[0].status_code == 201
    assert response.status_code == 201
    assert response.headers["idempotent-replayed"] == "true"
    assert response.content == first[0].content
    assert int(response.request.headers["x-stainless-retry-count"]) >= 1
    assert elapsed >= 0.9  # it waited the Retry-After second
    assert ledger_rows(server, org) == 1


def test_sdk_does_not_retry_a_decided_error(server: LiveServer, sdk: SdkFactory) -> None:
    org = make_org(server)
    client = sdk(org.live_key)
    try:
        client.post(
            URL, cast_to=httpx.Response, body={"amount_micros": 1, "fail_with": "RESOURCE_007"}
        )
    except sent_dm.ConflictError as error:
        assert error.response.headers["x-should-retry"] == "false"
        assert error.response.request.headers["x-stainless-retry-count"] == "0"
    else:
        raise AssertionError("expected a ConflictError")
