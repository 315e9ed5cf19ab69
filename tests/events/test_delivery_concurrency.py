"""One webhook's deliveries go out concurrently, up to SENTD_WEBHOOK_MAX_IN_FLIGHT and no more;
a webhook disabled mid-batch gets nothing more; outcomes recorded together keep the health
counters as if each had been noted in turn.

These tests queue the deliveries first (on their own database, through a server that runs no
workers) and only then start a worker, so that a whole backlog is claimed at once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from sentd.db.repos import webhooks
from tests import databases
from tests.conftest import build_app
from tests.contract import assert_ok
from tests.events.test_delivery import eventually, new_contact, opt
from tests.factories import Org, make_org
from tests.live_server import LiveServer
from tests.webhook_receiver import HookEndpoint


@dataclass
class CountingReceiver(HookEndpoint):
    """An endpoint that holds each request `delay_s` and counts how many it holds at once;
    `status(n)` answers the n-th request (0-based)."""

    delay_s: float = 0.2
    status: Callable[[int], int] = lambda n: 200
    attempts: int = 0
    current: int = 0
    peak: int = 0
    event_ids: list[str] = field(default_factory=list)

    async def _hook(self, request: Request) -> Response:
        await request.body()
        n = self.attempts
        self.attempts += 1
        self.current += 1
        self.peak = max(self.peak, self.current)
        try:
            status = self.status(n)
            if status != 410:
                await asyncio.sleep(self.delay_s)
            if status == 200:
                self.event_ids.append(  # per webhook: one event may go to several
                    f"{request.headers['x-webhook-id']}/{request.headers['x-webhook-event-id']}"
                )
            return Response("ok", status_code=status)
        finally:
            self.current -= 1


@pytest.fixture(scope="module")
def own_database(admin_url: str) -> Iterator[str]:
    url = databases.create_database(admin_url)
    yield url
    databases.drop_database(admin_url, url)


@pytest.fixture(scope="module")
def api(own_database: str) -> Iterator[LiveServer]:
    """Queues deliveries; delivers none."""
    live = LiveServer(
        build_app(own_database, rate_standard_per_minute=100_000, rate_standard_burst=10_000)
    ).start()
    yield live
    live.stop()


@pytest.fixture
def http(api: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.base_url, timeout=30) as client:
        yield client


def worker(database_url: str, **settings: Any) -> LiveServer:
    return LiveServer(
        build_app(
            database_url,
            run_workers=True,
            webhook_retry_base_s=0.1,
            webhook_retry_cap_s=1.0,
            **settings,
        )
    ).start()


def queue_events(
    http: httpx.Client, org: Org, endpoint_urls: list[str], count: int, **fields: Any
) -> list[str]:
    """Webhooks for these endpoints, and `count` events for each (a contact's consent toggled
    back and forth: each event goes to all of them)."""
    headers = {"x-api-key": org.live_key}
    hooks = []
    for url in endpoint_urls:
        body = {
            "display_name": "Busy",
            "endpoint_url": url,
            "event_types": ["contact"],
            "retry_count": 1,
            "timeout_seconds": 10,
            **fields,
        }
        hooks.append(assert_ok(http.post("/v3/webhooks", json=body, headers=headers), 201)["id"])
    contact = new_contact(http, org.live_key)
    for i in range(count):
        assert_ok(opt(http, org.live_key, contact, i % 2 == 0))
    assert all(len(log_all(http, org, hook)) == count for hook in hooks)
    return hooks


def log_all(http: httpx.Client, org: Org, webhook_id: str) -> list[dict[str, Any]]:
    data = assert_ok(
        http.get(
            f"/v3/webhooks/{webhook_id}/events",
            params={"page_size": 100},
            headers={"x-api-key": org.live_key},
        )
    )
    events: list[dict[str, Any]] = data["events"]
    return events


def test_one_webhook_has_up_to_max_in_flight_requests_at_once(
    own_database: str, api: LiveServer, http: httpx.Client
) -> None:
    org = make_org(api)
    with CountingReceiver() as first, CountingReceiver() as second:
        hook_a, hook_b = queue_events(http, org, [first.url, second.url], 24)
        started = time.monotonic()
        server = worker(own_database, webhook_max_in_flight=4)
        try:
            eventually(lambda: len(first.event_ids) == 24 and len(second.event_ids) == 24)
            elapsed = time.monotonic() - started
            eventually(
                lambda: all(
                    e["delivery_status"] == "delivered"
                    for hook in (hook_a, hook_b)
                    for e in log_all(http, org, hook)
                )
            )
        finally:
            server.stop()
    # Each webhook had exactly the limit in flight: more than one at a time, never more.
    assert first.peak == 4 and second.peak == 4
    assert len(set(first.event_ids)) == 24 and len(set(second.event_ids)) == 24  # each once
    # 24 requests of 0.2 s, four at a time: about 1.2 s, not the 4.8 s of one at a time.
    assert elapsed < 4.0
    for hook in (hook_a, hook_b):
        entries = log_all(http, org, hook)
        assert all(e["delivery_attempts"] == 1 and e["http_status_code"] == 200 for e in entries)
        data = assert_ok(http.get(f"/v3/webhooks/{hook}", headers={"x-api-key": org.live_key}))
        assert data["is_active"] and data["consecutive_failures"] == 0
        assert data["last_successful_delivery_at"] is not None


def test_the_process_wide_concurrency_bounds_all_webhooks_together(
    own_database: str, api: LiveServer, http: httpx.Client
) -> None:
    org = make_org(api)
    with CountingReceiver() as receiver:  # both webhooks' endpoint: it counts them together
        queue_events(http, org, [receiver.url, f"{receiver.url}?second"], 12)
        server = worker(own_database, webhook_max_in_flight=4, worker_concurrency=5)
        try:
            eventually(lambda: len(receiver.event_ids) == 24)
        finally:
            server.stop()
    assert receiver.peak == 5  # four of one webhook's and one of the other's, at most
    assert len(set(receiver.event_ids)) == 24


def test_a_webhook_disabled_mid_batch_gets_nothing_more(
    own_database: str, api: LiveServer, http: httpx.Client
) -> None:
    org = make_org(api)
    headers = {"x-api-key": org.live_key}
    # The first request is answered 410 at once; the others are held 0.2 s.
    with CountingReceiver(status=lambda n: 410 if n == 0 else 200) as receiver:
        [hook] = queue_events(http, org, [receiver.url], 30)
        server = worker(own_database, webhook_max_in_flight=4)
        try:
            eventually(
                lambda: (
                    not assert_ok(http.get(f"/v3/webhooks/{hook}", headers=headers))["is_active"]
                )
            )
            time.sleep(1.0)  # time enough for more requests, were any to be sent
            assert 1 <= receiver.attempts <= 4  # the 410 and what was already in flight
            entries = log_all(http, org, hook)
            attempted = [e for e in entries if e["delivery_attempts"] > 0]
            assert len(attempted) == receiver.attempts
            assert sum(e["delivery_status"] == "failed" for e in entries) == 1
            waiting = [e for e in entries if e["delivery_attempts"] == 0]
            assert len(waiting) == 30 - receiver.attempts
            assert all(e["delivery_status"] == "pending" for e in waiting)
            assert unleased(api, [uuid.UUID(e["id"]) for e in waiting])
            assert disabled_reason(api, hook) == "the endpoint answered 410 Gone"

            # Enabled again, the rest go out at once (their leases were given up).
            assert_ok(
                http.patch(
                    f"/v3/webhooks/{hook}/toggle-status", json={"is_active": True}, headers=headers
                )
            )
            eventually(lambda: receiver.attempts == 30)
            eventually(
                lambda: all(
                    e["delivery_status"] in ("delivered", "failed")
                    for e in log_all(http, org, hook)
                )
            )
        finally:
            server.stop()
    assert len(set(receiver.event_ids)) == len(receiver.event_ids) == 29


def disabled_reason(server: LiveServer, webhook_id: str) -> str | None:
    async def go() -> str | None:
        async with server.app.state.db.connection() as conn:
            reason: str | None = await conn.fetchval(
                "SELECT disabled_reason FROM webhooks WHERE id = $1", uuid.UUID(webhook_id)
            )
            return reason

    return server.run(go())


def unleased(server: LiveServer, delivery_ids: list[uuid.UUID]) -> bool:
    async def go() -> bool:
        async with server.app.state.db.connection() as conn:
            leased: int = await conn.fetchval(
                "SELECT count(*) FROM webhook_deliveries "
                "WHERE id = ANY($1) AND lease_until IS NOT NULL",
                delivery_ids,
            )
            return leased == 0

    return server.run(go())


# -- outcomes recorded together -------------------------------------------------------------


def recorded(
    server: LiveServer,
    webhook_id: uuid.UUID,
    delivery_ids: list[uuid.UUID],
    outcomes: str,
    *,
    failures_before: int = 0,
) -> tuple[bool, int, str | None, int]:
    """Record `outcomes` (s = success, r = a failure to be retried, f = a failed event,
    g = 410 Gone) in one write; return (is_active, consecutive_failures, disabled_reason,
    attempt rows written)."""

    async def go() -> tuple[bool, int, str | None, int]:
        db = server.app.state.db
        now = datetime.now(UTC)
        async with db.connection() as conn:
            await conn.execute(
                "UPDATE webhooks SET is_active = true, disabled_reason = NULL, "
                "consecutive_failures = $2 WHERE id = $1",
                webhook_id,
                failures_before,
            )
            batch = []
            for i, (kind, delivery_id) in enumerate(zip(outcomes, delivery_ids, strict=False)):
                at = now + timedelta(milliseconds=i)
                batch.append(
                    webhooks.AttemptOutcome(
                        delivery_id=delivery_id,
                        attempt=1,
                        state={"s": "delivered", "r": "retrying"}.get(kind, "failed"),
                        next_attempt_at=at + timedelta(hours=1) if kind == "r" else None,
                        started_at=at,
                        finished_at=at,
                        http_status={"s": 200, "g": 410}.get(kind, 500),
                        response_body="",
                        error=None,
                        succeeded=kind == "s",
                        disable_now_reason="gone" if kind == "g" else None,
                    )
                )
            before: int = await conn.fetchval("SELECT count(*) FROM webhook_attempts")
            active = await webhooks.record_outcomes(conn, webhook_id, batch, disable_after=10)
            after: int = await conn.fetchval("SELECT count(*) FROM webhook_attempts")
            row = await conn.fetchrow(
                "SELECT is_active, consecutive_failures, disabled_reason FROM webhooks "
                "WHERE id = $1",
                webhook_id,
            )
            assert row["is_active"] is active
            return active, row["consecutive_failures"], row["disabled_reason"], after - before

    return server.run(go())


def test_outcomes_recorded_together_count_as_if_noted_in_turn(
    api: LiveServer, http: httpx.Client
) -> None:
    org = make_org(api)
    [hook] = queue_events(http, org, ["http://127.0.0.1:9/never"], 12)
    webhook_id = uuid.UUID(hook)
    ids = [uuid.UUID(e["id"]) for e in log_all(http, org, hook)]

    def check(outcomes: str, before: int, expected: tuple[bool, int, str | None]) -> None:
        active, failures, reason, rows = recorded(
            api, webhook_id, ids, outcomes, failures_before=before
        )
        assert (active, failures, reason) == expected, outcomes
        assert rows == len(outcomes)

    check("ffsf", 7, (True, 1, None))  # 9 in a row at most; a success resets
    check("ffs", 8, (False, 0, "consecutive failures"))  # the 10th failed event disables
    check("rrrr", 9, (True, 9, None))  # retries are not failed events
    check("sffff", 9, (True, 4, None))  # the success came first
    check("s" + "f" * 10 + "s", 0, (False, 0, "consecutive failures"))  # ten between successes
    check("f" * 10, 0, (False, 10, "consecutive failures"))
    check("sgs", 0, (False, 0, "gone"))  # a 410 disables at once
    check("ss", 5, (True, 0, None))

    entries = {e["id"]: e for e in log_all(http, org, hook)}
    last = entries[str(ids[1])]  # the last write: "ss"
    assert last["delivery_status"] == "delivered" and last["http_status_code"] == 200
    assert last["processing_completed_at"] is not None
