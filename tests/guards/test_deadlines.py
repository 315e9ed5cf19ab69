"""The server-side deadline: 504 INTERNAL_004, and a retry with the same key is exactly-once."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import build_app
from tests.contract import assert_error, assert_ok
from tests.factories import ledger_rows, make_org
from tests.live_server import LiveServer

URL = "/v3/_probe/credits"


@pytest.fixture(scope="module")
def hurried(database_url: str) -> Iterator[LiveServer]:
    live = LiveServer(build_app(database_url, request_timeout=0.5)).start()
    yield live
    live.stop()


def post(server: LiveServer, key: str, api_key: str, **body: object) -> httpx.Response:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        return client.post(
            URL,
            json={"amount_micros": 1_000, **body},
            headers={"x-api-key": api_key, "Idempotency-Key": key},
        )


def test_slow_after_commit_then_retry_replays(hurried: LiveServer) -> None:
    org = make_org(hurried)
    response = post(hurried, "slow-after-commit", org.live_key, sleep_after_commit_s=2)
    error = assert_error(response, "INTERNAL_004")
    assert response.headers["x-should-retry"] == "true"
    assert "request" in error["details"]
    assert ledger_rows(hurried, org) == 1  # it committed before the deadline passed
    retry = post(hurried, "slow-after-commit", org.live_key)
    assert_ok(retry, 201)
    assert retry.headers["idempotent-replayed"] == "true"
    assert ledger_rows(hurried, org) == 1


def test_slow_before_commit_then_retry_runs_once(hurried: LiveServer) -> None:
    org = make_org(hurried)
    response = post(hurried, "slow-in-transaction", org.live_key, sleep_in_transaction_s=2)
    assert_error(response, "INTERNAL_004")
    assert ledger_rows(hurried, org) == 0  # rolled back
    retry = post(hurried, "slow-in-transaction", org.live_key)
    assert_ok(retry, 201)
    assert "idempotent-replayed" not in retry.headers
    again = post(hurried, "slow-in-transaction", org.live_key)
    assert again.headers["idempotent-replayed"] == "true"
    assert ledger_rows(hurried, org) == 1


def test_fast_requests_are_unaffected(hurried: LiveServer) -> None:
    org = make_org(hurried)
    with httpx.Client(base_url=hurried.base_url) as client:
        assert_ok(client.get("/v3/me", headers={"x-api-key": org.live_key}))
