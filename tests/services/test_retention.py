"""Retention deletes what is past its period and nothing else; the ledger is never touched."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from sentd.db.database import Database
from sentd.services.retention import Policy, apply_retention
from tests.contract import assert_error, assert_ok
from tests.factories import make_org
from tests.live_server import LiveServer

OLD = "now() - interval '1000 days'"
POLICY = Policy(
    days={
        "webhook_attempts": 500,
        "webhook_deliveries": 500,
        "events": 500,
        "message_events": 500,
        "messages": 500,
        "early_receipts": 500,
    }
)


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client


def sql(server: LiveServer, query: str, *args: Any) -> Any:
    async def go() -> Any:
        db: Database = server.app.state.db
        async with db.connection() as conn:
            return await conn.fetch(query, *args)

    return server.run(go())


def count(server: LiveServer, query: str, *args: Any) -> int:
    return int(sql(server, query, *args)[0][0])


def apply(server: LiveServer, policy: Policy = POLICY, *, dry_run: bool = False) -> dict[str, int]:
    db: Database = server.app.state.db
    return server.run(apply_retention(db, policy, datetime.now(UTC), dry_run=dry_run))


def send(http: httpx.Client, key: str, to: str) -> str:
    body = {"to": [to], "text": "retention"}
    data = assert_ok(http.post("/v3/messages", json=body, headers={"x-api-key": key}), 202)
    message_id: str = data["recipients"][0]["message_id"]
    return message_id


def event_with_delivery(server: LiveServer, customer: uuid.UUID, state: str, age: str) -> Any:
    """An event of `customer`, one delivery of it in `state` and two attempts, all `age` old."""
    webhook = sql(
        server,
        "INSERT INTO webhooks (id, customer_id, livemode, display_name, endpoint_url, "
        "event_types, signing_secret, retry_count, timeout_seconds) VALUES "
        "(gen_random_uuid(), $1, false, 'r', 'http://127.0.0.1:9/', '{messages}', 'whsec_x', 3, 30)"
        " RETURNING id",
        customer,
    )[0]["id"]
    event = sql(
        server,
        "INSERT INTO events (id, customer_id, livemode, event_type, envelope, created_at) "
        f"VALUES (gen_random_uuid(), $1, false, 'message.sent', '{{}}', {age}) RETURNING id",
        customer,
    )[0]["id"]
    delivery = sql(
        server,
        "INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, state, "
        f"next_attempt_at, created_at) VALUES (gen_random_uuid(), $1, $2, 'message.sent', $3, "
        f"{age}, {age}) RETURNING id",
        webhook,
        event,
        state,
    )[0]["id"]
    for attempt in (1, 2):
        sql(
            server,
            "INSERT INTO webhook_attempts (delivery_id, attempt, started_at, finished_at) "
            f"VALUES ($1, $2, {age}, {age})",
            delivery,
            attempt,
        )
    return event, delivery


def test_retention_deletes_what_is_past_its_period_and_keeps_the_rest(
    server: LiveServer, http: httpx.Client
) -> None:
    org = make_org(server)
    old_message = send(http, org.test_key, "+14155550171")
    new_message = send(http, org.test_key, "+14155550172")
    waiting_message = send(http, org.test_key, "+14155550173")
    sql(
        server,
        f"UPDATE messages SET status = 'DELIVERED', updated_at = {OLD} WHERE id = $1",
        uuid.UUID(old_message),
    )
    sql(
        server,
        f"UPDATE messages SET status = 'QUEUED', updated_at = {OLD}, due_at = now() + "
        "interval '1 day' WHERE id = $1",
        uuid.UUID(waiting_message),
    )
    sql(
        server,
        f"UPDATE message_events SET occurred_at = {OLD} WHERE message_id = $1",
        uuid.UUID(old_message),
    )
    old_event, old_delivery = event_with_delivery(server, org.id, "delivered", OLD)
    pending_event, pending_delivery = event_with_delivery(server, org.id, "retrying", OLD)
    new_event, _ = event_with_delivery(server, org.id, "delivered", "now()")
    sql(
        server,
        "INSERT INTO early_receipts (provider, provider_message_id, status, received_at) "
        f"VALUES ('twilio', $1, 'DELIVERED', {OLD})",
        f"SM{uuid.uuid4().hex}",
    )
    ledger_before = count(
        server, "SELECT count(*) FROM ledger_entries WHERE customer_id = $1", org.id
    )

    would = apply(server, dry_run=True)
    assert would["messages"] >= 1 and would["events"] >= 0 and would["webhook_attempts"] >= 4
    assert count(server, "SELECT count(*) FROM messages WHERE id = $1", uuid.UUID(old_message))

    deleted = apply(server)
    assert deleted["messages"] >= 1 and deleted["webhook_deliveries"] >= 1

    def exists(table: str, row_id: Any) -> bool:
        return bool(count(server, f"SELECT count(*) FROM {table} WHERE id = $1", row_id))

    assert not exists("messages", uuid.UUID(old_message))
    assert not count(
        server, "SELECT count(*) FROM message_events WHERE message_id = $1", uuid.UUID(old_message)
    )
    assert exists("messages", uuid.UUID(new_message))
    assert exists("messages", uuid.UUID(waiting_message))  # not final: kept at any age
    assert not exists("webhook_deliveries", old_delivery)
    assert not exists("events", old_event)
    # A delivery still being retried keeps its event; its old attempts go.
    assert exists("webhook_deliveries", pending_delivery)
    assert exists("events", pending_event)
    assert not count(
        server, "SELECT count(*) FROM webhook_attempts WHERE delivery_id = $1", pending_delivery
    )
    assert exists("events", new_event)
    assert not count(
        server, f"SELECT count(*) FROM early_receipts WHERE received_at < {OLD} + interval '1 day'"
    )
    after = count(server, "SELECT count(*) FROM ledger_entries WHERE customer_id = $1", org.id)
    assert after == ledger_before

    # The API answers for a purged message as for one that never existed.
    response = http.get(f"/v3/messages/{old_message}", headers={"x-api-key": org.test_key})
    assert_error(response, "RESOURCE_003")
    assert_ok(http.get(f"/v3/messages/{new_message}", headers={"x-api-key": org.test_key}))


def test_retention_works_in_bounded_batches_and_zero_keeps_forever(server: LiveServer) -> None:
    org = make_org(server)
    for _ in range(3):
        event_with_delivery(server, org.id, "failed", OLD)
    only_attempts = Policy(days={"webhook_attempts": 500}, batch_size=2, max_batches=2)
    mine = (
        "SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = "
        "a.delivery_id JOIN webhooks w ON w.id = d.webhook_id WHERE w.customer_id = $1"
    )
    assert count(server, mine, org.id) == 6
    first = apply(server, only_attempts)
    assert first["webhook_attempts"] == 4  # two batches of two, then the pass stops
    assert set(first) == {"webhook_attempts"}  # the other kinds are kept forever
    for _ in range(5):  # other tests' old attempts may be deleted first
        if not count(server, mine, org.id):
            break
        assert apply(server, only_attempts)["webhook_attempts"] <= 4
    assert count(server, mine, org.id) == 0
    assert (
        count(
            server,
            "SELECT count(*) FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id "
            "WHERE w.customer_id = $1",
            org.id,
        )
        == 3
    )
