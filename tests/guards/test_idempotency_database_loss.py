"""A claim whose request lost the database is released once the database is back, so that the
client's retry with the same key runs instead of being refused with CONFLICT_001 for the lease."""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import psycopg

from tests.conftest import build_app
from tests.contract import assert_error, assert_ok
from tests.factories import ledger_rows, make_org
from tests.live_server import LiveServer
from tests.tcp_proxy import TcpProxy

URL = "/v3/_probe/credits"


def claims_in_flight(database_url: str, customer_id: uuid.UUID) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM idempotency_keys WHERE customer_id = %s AND state = 'in_flight'",
            (customer_id,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_claim_is_released_after_the_database_comes_back(database_url: str) -> None:
    proxy = TcpProxy(database_url).start()
    server = LiveServer(
        build_app(proxy.url, db_acquire_timeout_s=1.0, db_connect_timeout_s=1.0)
    ).start()
    try:
        org = make_org(server)
        key = f"lost-{uuid.uuid4().hex}"
        headers = {"x-api-key": org.live_key, "Idempotency-Key": key}
        first: list[httpx.Response] = []

        def slow_credit() -> None:
            with httpx.Client(base_url=server.base_url, timeout=30) as client:
                body = {"amount_micros": 1_000, "sleep_in_transaction_s": 1.5}
                first.append(client.post(URL, json=body, headers=headers))

        thread = threading.Thread(target=slow_credit)
        thread.start()
        deadline = time.monotonic() + 10
        while claims_in_flight(database_url, org.id) == 0:  # the key is claimed, the write runs
            assert time.monotonic() < deadline, "the request never claimed its key"
            time.sleep(0.02)
        proxy.cut()  # the database is lost mid-request
        thread.join(30)
        assert_error(first[0], "INTERNAL_002")
        assert claims_in_flight(database_url, org.id) == 1  # not released: it could not be
        proxy.restore()

        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            deadline = time.monotonic() + 10
            while True:
                retry = client.post(URL, json={"amount_micros": 1_000}, headers=headers)
                # Refused for the lease (60 s) before: CONFLICT_001 must never answer here.
                assert retry.status_code != 409, retry.text
                if retry.status_code == 201:
                    break
                assert time.monotonic() < deadline, retry.text
                time.sleep(0.1)
        assert_ok(retry, 201)
        assert "idempotent-replayed" not in retry.headers
        assert ledger_rows(server, org) == 1  # the lost request wrote nothing
        assert server.app.state.idempotency.unreleased == 0
    finally:
        server.stop()
        proxy.stop()


def test_the_release_happens_without_a_retry(database_url: str) -> None:
    """Another process's retry cannot release this process's claim: this process does it in the
    background as soon as the database answers."""
    proxy = TcpProxy(database_url).start()
    server = LiveServer(
        build_app(proxy.url, db_acquire_timeout_s=1.0, db_connect_timeout_s=1.0)
    ).start()
    try:
        org = make_org(server)
        headers = {"x-api-key": org.live_key, "Idempotency-Key": f"lost-{uuid.uuid4().hex}"}
        answers: list[httpx.Response] = []

        def slow_credit() -> None:
            with httpx.Client(base_url=server.base_url, timeout=30) as client:
                body = {"amount_micros": 1_000, "sleep_in_transaction_s": 1.5}
                answers.append(client.post(URL, json=body, headers=headers))

        thread = threading.Thread(target=slow_credit)
        thread.start()
        deadline = time.monotonic() + 10
        while claims_in_flight(database_url, org.id) == 0:
            assert time.monotonic() < deadline, "the request never claimed its key"
            time.sleep(0.02)
        proxy.cut()
        thread.join(30)
        assert answers[0].status_code == 500
        proxy.restore()
        deadline = time.monotonic() + 10
        while claims_in_flight(database_url, org.id) != 0:
            assert time.monotonic() < deadline, "the claim was not released"
            time.sleep(0.05)
    finally:
        server.stop()
        proxy.stop()
