"""Events reach webhooks: signed, verified by the `standardwebhooks` library, retried with
backoff, and webhooks that keep failing are disabled."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests import databases
from tests.conftest import build_app
from tests.contract import assert_ok
from tests.factories import Org, make_org
from tests.live_server import LiveServer
from tests.webhook_receiver import Behaviour, WebhookReceiver


@pytest.fixture(scope="module")
def worker_server(database_url: str) -> Iterator[LiveServer]:
    live = LiveServer(
        build_app(database_url, run_workers=True, webhook_retry_base_s=0.1, webhook_retry_cap_s=1.0)
    ).start()
    yield live
    live.stop()


@pytest.fixture
def http(worker_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=worker_server.base_url, timeout=30) as client:
        yield client


def subscribe(
    http: httpx.Client, org: Org, receiver: WebhookReceiver, key: str | None = None, **fields: Any
) -> dict[str, Any]:
    body = {
        "display_name": "Test",
        "endpoint_url": receiver.url,
        "event_types": ["contact"],
        "retry_count": 3,
        "timeout_seconds": 5,
        **fields,
    }
    data: dict[str, Any] = assert_ok(
        http.post("/v3/webhooks", json=body, headers={"x-api-key": key or org.live_key}), 201
    )
    receiver.secret = data["signing_secret"]
    return data


def new_contact(http: httpx.Client, key: str, phone: str = "+14155550100") -> str:
    response = http.post("/v3/contacts", json={"phone_number": phone}, headers={"x-api-key": key})
    contact_id: str = assert_ok(response, 201)["id"]
    return contact_id


def opt(http: httpx.Client, key: str, contact_id: str, out: bool, **extra: Any) -> httpx.Response:
    return http.patch(
        f"/v3/contacts/{contact_id}", json={"opt_out": out, **extra}, headers={"x-api-key": key}
    )


def log(http: httpx.Client, org: Org, webhook_id: str) -> list[dict[str, Any]]:
    data = assert_ok(
        http.get(f"/v3/webhooks/{webhook_id}/events", headers={"x-api-key": org.live_key})
    )
    events: list[dict[str, Any]] = data["events"]
    return events


def eventually(check: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_opt_out_through_the_api_arrives_signed(
    worker_server: LiveServer, http: httpx.Client
) -> None:
    org = make_org(worker_server)
    with WebhookReceiver() as receiver:
        webhook = subscribe(http, org, receiver)
        contact = new_contact(http, org.live_key)
        assert_ok(opt(http, org.live_key, contact, True))
        [delivery] = receiver.wait_for(1)
        assert delivery.verified
        assert delivery.webhook_id == webhook["id"]
        assert delivery.event_type_header == "contact"
        assert delivery.body["field"] == "contact" and delivery.body["event"] == "contact.opt_out"
        payload = delivery.body["payload"]
        assert payload["opt_out"] is True and payload["contact_id"] == contact
        assert payload["from"] == "+14155550100" and payload["source"] == "API"
        assert delivery.body["timestamp"].endswith("Z")

        assert_ok(opt(http, org.live_key, contact, False))
        second = receiver.wait_for(2)[1]
        assert second.body["event"] == "contact.opt_in" and second.verified
        assert second.event_id != delivery.event_id

        eventually(
            lambda: all(e["delivery_status"] == "delivered" for e in log(http, org, webhook["id"]))
        )
        entries = log(http, org, webhook["id"])
        assert [e["event_type"] for e in entries] == ["contact.opt_in", "contact.opt_out"]
        assert entries[1]["http_status_code"] == 200 and entries[1]["delivery_attempts"] == 1
        assert entries[1]["event_data"]["payload"]["opt_out"] is True
        assert entries[1]["processing_completed_at"] is not None
        fetched = assert_ok(
            http.get(f"/v3/webhooks/{webhook['id']}", headers={"x-api-key": org.live_key})
        )
        assert fetched["last_successful_delivery_at"] is not None


def test_an_unchanged_opt_out_emits_nothing_and_filters_apply(
    worker_server: LiveServer, http: httpx.Client
) -> None:
    org = make_org(worker_server)
    with WebhookReceiver() as receiver:
        subscribe(http, org, receiver, event_filters={"contact": ["opt_in"]})
        contact = new_contact(http, org.live_key)
        assert_ok(opt(http, org.live_key, contact, False))  # already opted in: no change
        assert_ok(opt(http, org.live_key, contact, True))  # filtered out
        assert_ok(opt(http, org.live_key, contact, False))
        [delivery] = receiver.wait_for(1)
        assert delivery.body["event"] == "contact.opt_in"
        time.sleep(0.5)
        assert len(receiver.deliveries) == 1


def test_retries_with_backoff_until_delivered(
    worker_server: LiveServer, http: httpx.Client
) -> None:
    org = make_org(worker_server)
    with WebhookReceiver(behaviour=Behaviour(fail_first=2)) as receiver:
        webhook = subscribe(http, org, receiver)
        assert_ok(opt(http, org.live_key, new_contact(http, org.live_key), True))
        [delivery] = receiver.wait_for(1)
        assert delivery.verified and receiver.attempts == 3
        eventually(lambda: log(http, org, webhook["id"])[0]["delivery_status"] == "delivered")
        entry = log(http, org, webhook["id"])[0]
        assert entry["delivery_attempts"] == 3 and entry["http_status_code"] == 200
        attempts = attempt_rows(worker_server, entry["id"])
        assert [a["http_status"] for a in attempts] == [500, 500, 200]
        gaps = [
            (b["started_at"] - a["started_at"]).total_seconds()
            for a, b in itertools.pairwise(attempts)
        ]
        assert gaps[0] >= 0.1 and gaps[1] >= 0.2  # base, then doubled


def test_retry_after_is_honoured(worker_server: LiveServer, http: httpx.Client) -> None:
    org = make_org(worker_server)
    with WebhookReceiver(
        behaviour=Behaviour(fail_first=1, fail_status=429, retry_after="1")
    ) as receiver:
        webhook = subscribe(http, org, receiver)
        assert_ok(opt(http, org.live_key, new_contact(http, org.live_key), True))
        receiver.wait_for(1)
        eventually(lambda: log(http, org, webhook["id"])[0]["delivery_status"] == "delivered")
        attempts = attempt_rows(worker_server, log(http, org, webhook["id"])[0]["id"])
        assert (attempts[1]["started_at"] - attempts[0]["started_at"]).total_seconds() >= 0.95


def test_gives_up_after_retry_count_and_disables_after_ten_failed_events(
    worker_server: LiveServer, http: httpx.Client
) -> None:
    org = make_org(worker_server)
    with WebhookReceiver(behaviour=Behaviour(fail_first=10_000)) as receiver:
        webhook = subscribe(http, org, receiver, retry_count=1)
        contact = new_contact(http, org.live_key)
        headers = {"x-api-key": org.live_key}
        for i in range(10):
            assert_ok(opt(http, org.live_key, contact, i % 2 == 0))
            eventually(
                lambda n=i: (
                    sum(e["delivery_status"] == "failed" for e in log(http, org, webhook["id"]))
                    == n + 1
                )
            )
        entries = log(http, org, webhook["id"])
        assert all(e["delivery_attempts"] == 2 for e in entries)  # the first try + 1 retry
        assert entries[0]["http_status_code"] == 500 and entries[0]["response_body"] == "not now"
        data = assert_ok(http.get(f"/v3/webhooks/{webhook['id']}", headers=headers))
        assert data["is_active"] is False and data["consecutive_failures"] == 10
        # Events while disabled are not queued; re-enabling resets the count.
        enabled = assert_ok(
            http.patch(
                f"/v3/webhooks/{webhook['id']}/toggle-status",
                json={"is_active": True},
                headers=headers,
            )
        )
        assert enabled["is_active"] is True and enabled["consecutive_failures"] == 0
        receiver.behaviour = Behaviour()
        assert_ok(opt(http, org.live_key, contact, True))
        receiver.wait_for(1)


def test_410_disables_at_once(worker_server: LiveServer, http: httpx.Client) -> None:
    org = make_org(worker_server)
    with WebhookReceiver(behaviour=Behaviour(fail_first=10, fail_status=410)) as receiver:
        webhook = subscribe(http, org, receiver)
        assert_ok(opt(http, org.live_key, new_contact(http, org.live_key), True))
        eventually(lambda: log(http, org, webhook["id"])[0]["delivery_status"] == "failed")
        assert receiver.attempts == 1
        data = assert_ok(
            http.get(f"/v3/webhooks/{webhook['id']}", headers={"x-api-key": org.live_key})
        )
        assert data["is_active"] is False


def test_redirects_are_not_followed(worker_server: LiveServer, http: httpx.Client) -> None:
    org = make_org(worker_server)
    with (
        WebhookReceiver() as target,
        WebhookReceiver(behaviour=Behaviour(redirect_to="x")) as receiver,
    ):
        receiver.behaviour.redirect_to = target.url
        webhook = subscribe(http, org, receiver, retry_count=1)
        assert_ok(opt(http, org.live_key, new_contact(http, org.live_key), True))
        eventually(lambda: log(http, org, webhook["id"])[0]["delivery_status"] == "failed")
        assert log(http, org, webhook["id"])[0]["http_status_code"] == 302
        assert target.attempts == 0


def test_a_timeout_is_a_failure_and_is_retried(
    worker_server: LiveServer, http: httpx.Client
) -> None:
    org = make_org(worker_server)
    with WebhookReceiver(behaviour=Behaviour(delay_s=6)) as receiver:
        webhook = subscribe(http, org, receiver, timeout_seconds=5)
        assert_ok(opt(http, org.live_key, new_contact(http, org.live_key), True))
        eventually(lambda: receiver.attempts == 1, timeout=5)
        receiver.behaviour.delay_s = 0
        receiver.wait_for(2, timeout=20)  # the slow attempt is answered late; the retry too
        eventually(lambda: log(http, org, webhook["id"])[0]["delivery_status"] == "delivered", 20)
        attempts = attempt_rows(worker_server, log(http, org, webhook["id"])[0]["id"])
        assert attempts[0]["http_status"] is None and "no answer within 5 s" in attempts[0]["error"]


def test_rotation_invalidates_the_old_secret(worker_server: LiveServer, http: httpx.Client) -> None:
    org = make_org(worker_server)
    headers = {"x-api-key": org.live_key}
    with WebhookReceiver() as receiver:
        webhook = subscribe(http, org, receiver, retry_count=1)
        old_secret = receiver.secret
        new_secret = assert_ok(
            http.post(f"/v3/webhooks/{webhook['id']}/rotate-secret", json={}, headers=headers)
        )["signing_secret"]
        contact = new_contact(http, org.live_key)
        assert_ok(opt(http, org.live_key, contact, True))
        first = receiver.wait_for(1)[0]
        assert not first.verified  # the receiver still holds the old secret
        assert old_secret != new_secret
        receiver.secret = new_secret
        receiver.wait_for(2)
        assert receiver.deliveries[1].verified


def test_other_mode_and_sandbox_emit_nothing(worker_server: LiveServer, http: httpx.Client) -> None:
    org = make_org(worker_server)
    with WebhookReceiver() as receiver:
        subscribe(http, org, receiver)  # a live webhook
        test_contact = new_contact(http, org.test_key)
        assert_ok(opt(http, org.test_key, test_contact, True))
        live_contact = new_contact(http, org.live_key)
        assert_ok(opt(http, org.live_key, live_contact, True, sandbox=True))
        assert_ok(opt(http, org.live_key, live_contact, True))  # the one real, live change
        [delivery] = receiver.wait_for(1)
        time.sleep(0.5)
        assert len(receiver.deliveries) == 1 and delivery.body["event"] == "contact.opt_out"


def test_test_sends_one_specimen_without_retries(
    worker_server: LiveServer, http: httpx.Client
) -> None:
    org = make_org(worker_server)
    headers = {"x-api-key": org.live_key}
    with WebhookReceiver() as receiver:
        webhook = subscribe(http, org, receiver)
        url = f"/v3/webhooks/{webhook['id']}/test"
        data = assert_ok(http.post(url, json={"event_type": "message.delivered"}, headers=headers))
        assert data == {"success": True, "message": "The endpoint answered 200"}
        [delivery] = receiver.deliveries
        assert delivery.verified and delivery.body["payload"]["message_status"] == "DELIVERED"
        receiver.behaviour = Behaviour(fail_first=5)
        data = assert_ok(http.post(url, json={"event_type": "contact.opt_out"}, headers=headers))
        assert data == {"success": False, "message": "The endpoint answered 500"}
        assert receiver.attempts == 2  # once each, no retries
        assert log(http, org, webhook["id"]) == []  # tests are not events


def test_private_destinations_are_refused_at_delivery(admin_url: str) -> None:
    url = databases.create_database(admin_url)
    permissive = LiveServer(build_app(url)).start()
    try:
        org = make_org(permissive)
        with WebhookReceiver() as receiver, httpx.Client(base_url=permissive.base_url) as client:
            webhook = subscribe(client, org, receiver, retry_count=1)
            assert_ok(opt(client, org.live_key, new_contact(client, org.live_key), True))
            strict = LiveServer(
                build_app(
                    url, run_workers=True, webhook_allow_private=False, webhook_retry_base_s=0.1
                )
            ).start()
            try:
                eventually(
                    lambda: log(client, org, webhook["id"])[0]["delivery_status"] == "failed"
                )
                assert "destination refused" in log(client, org, webhook["id"])[0]["error_message"]
                assert receiver.attempts == 0
            finally:
                strict.stop()
    finally:
        permissive.stop()
        databases.drop_database(admin_url, url)


def attempt_rows(server: LiveServer, delivery_id: str) -> list[Any]:
    async def go() -> list[Any]:
        async with server.app.state.db.connection() as conn:
            rows: list[Any] = await conn.fetch(
                "SELECT * FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt",
                __import__("uuid").UUID(delivery_id),
            )
            return rows

    return server.run(go())


def test_template_review_events(worker_server: LiveServer, http: httpx.Client) -> None:
    from tests.api.test_templates import definition

    org = make_org(worker_server)
    with WebhookReceiver() as receiver:
        subscribe(
            http,
            org,
            receiver,
            event_types=["templates"],
            event_filters={"templates": ["PENDING", "APPROVED"]},
        )
        body = {"name": "shipping_update", "definition": definition(), "submit_for_review": True}
        template = assert_ok(
            http.post("/v3/templates", json=body, headers={"x-api-key": org.live_key}), 201
        )
        first, second = receiver.wait_for(2)
        assert all(d.verified for d in (first, second))
        assert "event" not in first.body and first.body["field"] == "templates"
        assert first.event_type_header == "templates"
        assert [first.body["payload"]["status"], second.body["payload"]["status"]] == [
            "PENDING",
            "APPROVED",
        ]
        payload = second.body["payload"]
        assert payload["template_id"] == template["id"]
        assert payload["template_name"] == "shipping_update"
        assert payload["whatsapp_template_id"]
