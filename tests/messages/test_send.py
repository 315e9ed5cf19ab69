"""`POST /v3/messages` and the lifecycle through the simulator, over real HTTP."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.api.test_profiles import BILLING
from tests.api.test_templates import created, definition, put, wait_for_status
from tests.conftest import build_app
from tests.contract import assert_error, assert_ok
from tests.factories import (
    balance_of,
    credit,
    customer_counts,
    make_key,
    make_org,
    set_limits,
)
from tests.live_server import LiveServer
from tests.webhook_receiver import WebhookReceiver

SMS_PRICE = 7_900  # US SMS, micro-units


@pytest.fixture(scope="module")
def live(database_url: str) -> Iterator[LiveServer]:
    server = LiveServer(
        build_app(
            database_url,
            run_workers=True,
            simulator_latency_ms=50,
            dispatch_retry_base_s=0.05,
            webhook_retry_base_s=0.1,
        )
    ).start()
    yield server
    server.stop()


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.base_url, timeout=30) as client:
        yield client


def send(http: httpx.Client, key: str, **body: Any) -> httpx.Response:
    body.setdefault("text", "Hello from sentd")
    return http.post("/v3/messages", json=body, headers={"x-api-key": key})


def message(http: httpx.Client, key: str, message_id: str) -> dict[str, Any]:
    data: dict[str, Any] = assert_ok(
        http.get(f"/v3/messages/{message_id}", headers={"x-api-key": key})
    )
    return data


def wait_status(
    http: httpx.Client, key: str, message_id: str, status: str, timeout: float = 15
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        data = message(http, key, message_id)
        if data["status"] == status:
            return data
        assert time.monotonic() < deadline, f"{message_id} is {data['status']}, not {status}"
        time.sleep(0.05)


def balance(http: httpx.Client, key: str) -> int:
    amount: int = assert_ok(http.get("/v3/me", headers={"x-api-key": key}))["balance"][
        "amount_micros"
    ]
    return amount


def test_sms_goes_to_delivered_and_is_charged_once(live: LiveServer, http: httpx.Client) -> None:
    org = make_org(live)
    before = balance(http, org.test_key)
    response = send(http, org.test_key, to=["+14155550100"], channel=["sms"])
    data = assert_ok(response, 202)
    assert data["status"] == "QUEUED" and data["template_id"] is None
    [recipient] = data["recipients"]
    assert recipient["to"] == "+14155550100" and recipient["channel"] == "sms"
    assert recipient["body"] == "Hello from sentd"
    assert balance(http, org.test_key) == before - SMS_PRICE
    done = wait_status(http, org.test_key, recipient["message_id"], "DELIVERED")
    assert [e["status"] for e in done["events"]] == ["QUEUED", "ACCEPTED", "SENT", "DELIVERED"]
    assert done["price"] == pytest.approx(0.0079) and done["direction"] == "OUTBOUND"
    assert done["message_body"]["content"] == "Hello from sentd"
    assert "scheduled_at" not in done and "reason_code" not in done
    acts = assert_ok(
        http.get(
            f"/v3/messages/{recipient['message_id']}/activities",
            headers={"x-api-key": org.test_key},
        )
    )
    assert [a["status"] for a in acts["activities"]] == ["DELIVERED", "SENT", "ACCEPTED", "QUEUED"]
    assert acts["activities"][0]["price"] == "0.0079" and acts["activities"][-1]["price"] is None
    assert balance(http, org.test_key) == before - SMS_PRICE


def test_whatsapp_template_is_read(live: LiveServer, http: httpx.Client) -> None:
    org = make_org(live)
    template = created(http, org.test_key, name="order_shipped", submit_for_review=True)
    wait_for_status(http, org.test_key, template["id"], "APPROVED")
    body = {
        "to": ["+14155550123"],
        "channel": ["whatsapp"],
        "template": {"id": template["id"], "parameters": {"name": "Ada", "order_id": "A-1"}},
    }
    data = assert_ok(http.post("/v3/messages", json=body, headers={"x-api-key": org.test_key}), 202)
    assert data["template_name"] == "order_shipped"
    [recipient] = data["recipients"]
    assert recipient["body"] == "Hi Ada, your order A-1 has shipped and arrives soon."
    done = wait_status(http, org.test_key, recipient["message_id"], "READ")
    assert done["template_category"] and done["channel"] == "whatsapp"


def test_auto_detect_and_broadcast(live: LiveServer, http: httpx.Client) -> None:
    org = make_org(live)
    data = assert_ok(
        send(http, org.test_key, to=["+14155550124", "+442071838750", "+14155550124"]), 202
    )
    channels = {(r["to"], r["channel"]) for r in data["recipients"]}
    assert channels == {
        ("+14155550124", "sms"),
        ("+442071838750", "sms"),
    }  # free text: no WhatsApp yet
    data = assert_ok(
        send(http, org.test_key, to=["+14155550125"], channel=["sms", "whatsapp"]), 202
    )
    assert sorted(r["channel"] for r in data["recipients"]) == ["sms", "whatsapp"]


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"text": "x"}, "VALIDATION_004", "to"),
        ({"to": [], "text": "x"}, "VALIDATION_004", "to"),
        ({"to": ["+14155550100", "555-0100"], "text": "x"}, "VALIDATION_002", "to[1]"),
        ({"to": ["+14155550100"], "template": {"id": "tpl_1"}}, "VALIDATION_003", "template.id"),
        ({"to": ["+14155550100"]}, "VALIDATION_001", "template"),
        (
            {"to": ["+14155550100"], "text": "x", "template": {"name": "t"}},
            "VALIDATION_001",
            "template",
        ),
        ({"to": ["+14155550100"], "text": "x", "channel": ["fax"]}, "VALIDATION_006", "channel[0]"),
        (
            {"to": ["+14155550100"], "text": "x", "scheduled_at": "2030-01-01T10:00:00"},
            "VALIDATION_005",
            "scheduled_at",
        ),
        (
            {"to": ["+14155550100"], "text": "x", "scheduled_at": "2000-01-01T10:00:00Z"},
            "VALIDATION_005",
            "scheduled_at",
        ),
        ({"to": [f"+1415555{n:04d}" for n in range(1001)], "text": "x"}, "VALIDATION_005", "to"),
    ],
)
def test_validation(
    live: LiveServer, http: httpx.Client, body: dict[str, Any], code: str, field: str
) -> None:
    org = make_org(live)
    response = http.post("/v3/messages", json=body, headers={"x-api-key": org.test_key})
    assert field in assert_error(response, code)["details"]


def test_template_errors(live: LiveServer, http: httpx.Client) -> None:
    org = make_org(live)
    headers = {"x-api-key": org.test_key}
    unknown = {"to": ["+14155550100"], "template": {"id": "7ba7b820-9dad-11d1-80b4-00c04fd430c8"}}
    assert_error(http.post("/v3/messages", json=unknown, headers=headers), "RESOURCE_002")
    template = created(http, org.test_key, name="needs_params")
    missing = {
        "to": ["+14155550100"],
        "channel": ["sms"],
        "template": {"id": template["id"], "parameters": {"name": "Ada"}},
    }
    error = assert_error(http.post("/v3/messages", json=missing, headers=headers), "VALIDATION_004")
    assert "template.parameters.order_id" in error["details"]
    draft_on_whatsapp = {
        **missing,
        "channel": ["whatsapp"],
        "template": {"id": template["id"], "parameters": {"name": "A", "order_id": "1"}},
    }
    error = assert_error(
        http.post("/v3/messages", json=draft_on_whatsapp, headers=headers), "BUSINESS_005"
    )
    assert "to[0]" in error["details"]


def test_a_send_finds_its_template_by_name_and_renders_its_latest_definition(
    live: LiveServer, http: httpx.Client
) -> None:
    org = make_org(live)

    async def add_profile() -> Any:
        from sentd.db.repos import customers

        async with live.app.state.db.transaction() as conn:
            return await customers.insert_profile(
                conn, organization_id=org.id, name="Shop", settings={}
            )

    profile = live.run(add_profile())["id"]
    credit(live, profile, 10 * SMS_PRICE, livemode=False)
    profile_key = make_key(live, org, customer_id=profile, livemode=False)
    params = {"name": "Ada", "order_id": "A-1"}

    def worded(prefix: str) -> dict[str, Any]:
        return definition(prefix + ": hi {{0:name}}, order {{1:order_id}} ships today.")

    created(http, org.test_key, name="Welcome", definition=worded("Org"))
    created(http, org.test_key, name="Receipt", definition=worded("Receipt"))
    own = created(http, profile_key, name="Welcome", definition=worded("Own"))

    def body_of(key: str, template: dict[str, Any]) -> str:
        sent = {"to": ["+14155550140"], "channel": ["sms"], "template": template}
        data = assert_ok(http.post("/v3/messages", json=sent, headers={"x-api-key": key}), 202)
        text: str = data["recipients"][0]["body"]
        return text

    # By name: the profile's own template before its organization's of the same name.
    assert (
        body_of(profile_key, {"name": "Welcome", "parameters": params})
        == "Own: hi Ada, order A-1 ships today."
    )
    assert (
        body_of(profile_key, {"name": "Receipt", "parameters": params})
        == "Receipt: hi Ada, order A-1 ships today."
    )
    assert (
        body_of(org.test_key, {"name": "Welcome", "parameters": params})
        == "Org: hi Ada, order A-1 ships today."
    )
    unknown = {"to": ["+14155550140"], "template": {"name": "Nope"}}
    response = http.post("/v3/messages", json=unknown, headers={"x-api-key": profile_key})
    assert "name" in assert_error(response, "RESOURCE_002")["details"]
    # A process keeps the definitions it parsed; a changed one is rendered at once.
    by_id = {"id": own["id"], "parameters": params}
    assert body_of(profile_key, by_id) == "Own: hi Ada, order A-1 ships today."
    changed = {"definition": worded("Changed")}
    assert_ok(put(http, profile_key, own["id"], changed))
    assert body_of(profile_key, by_id) == "Changed: hi Ada, order A-1 ships today."


def test_gates_reject_the_whole_request_and_change_nothing(
    live: LiveServer, http: httpx.Client
) -> None:
    org = make_org(live, test_micros=10_000)  # enough for one SMS
    headers = {"x-api-key": org.test_key}
    contact = assert_ok(
        http.post("/v3/contacts", json={"phone_number": "+14155550130"}, headers=headers), 201
    )
    assert_ok(http.patch(f"/v3/contacts/{contact['id']}", json={"opt_out": True}, headers=headers))
    before = customer_counts(live, org.id)
    error = assert_error(
        send(http, org.test_key, to=["+14155550131", "+14155550130"]), "BUSINESS_004"
    )
    assert list(error["details"]) == ["to[1]"]
    error = assert_error(
        send(http, org.test_key, to=["+442071838750"], channel=["whatsapp"]), "BUSINESS_007"
    )
    assert list(error["details"]) == ["to[0]"]
    error = assert_error(
        send(http, org.test_key, to=["+14155550132", "+14155550133"]), "BUSINESS_003"
    )
    assert "balance" in error["details"]
    assert customer_counts(live, org.id) == before  # nothing written by any refusal
    assert balance(http, org.test_key) == 10_000


def test_daily_quota_and_minute_limit(live: LiveServer, http: httpx.Client) -> None:
    org = make_org(live)
    set_limits(live, org, messages_per_day=2)
    assert_ok(send(http, org.test_key, to=["+14155550140"]), 202)
    error = assert_error(
        send(http, org.test_key, to=["+14155550141", "+14155550142"]), "BUSINESS_008"
    )
    assert "messages_per_day" in error["details"]
    other = make_org(live)
    set_limits(live, other, messages_per_minute=2)
    assert_ok(send(http, other.test_key, to=["+14155550143", "+14155550144"]), 202)
    response = send(http, other.test_key, to=["+14155550145"])
    assert_error(response, "BUSINESS_002")
    assert int(response.headers["retry-after"]) >= 1


def test_refusals_of_the_charge_in_sandbox_and_on_the_first_send_of_the_day(
    live: LiveServer, http: httpx.Client
) -> None:
    org = make_org(live, test_micros=SMS_PRICE)
    set_limits(live, org, messages_per_day=1)
    before = customer_counts(live, org.id)
    two = ["+14155550160", "+14155550161"]
    error = assert_error(send(http, org.test_key, to=two), "BUSINESS_008")
    assert error["details"]["messages_per_day"] == [
        "The daily quota is 1; 0 sent today, 2 more requested"
    ]
    assert customer_counts(live, org.id) == before
    poor = make_org(live, test_micros=SMS_PRICE)
    before = customer_counts(live, poor.id)
    response = send(http, poor.test_key, to=two, sandbox=True)
    error = assert_error(response, "BUSINESS_003")
    assert response.headers["x-sandbox"] == "true"
    assert error["details"]["balance"] == ["The request costs 0.0158; 0.0079 is available"]
    assert_ok(send(http, poor.test_key, to=two[:1], sandbox=True), 202)
    assert customer_counts(live, poor.id) == before


def test_magic_numbers(live: LiveServer, http: httpx.Client) -> None:
    org = make_org(live)
    before = balance(http, org.test_key)
    data = assert_ok(
        send(
            http,
            org.test_key,
            channel=["sms"],
            to=["+14155550001", "+14155550002", "+14155550004", "+14155550005"],
        ),
        202,
    )
    ids = {r["to"]: r["message_id"] for r in data["recipients"]}
    failed = wait_status(http, org.test_key, ids["+14155550001"], "FAILED")
    assert failed["reason_code"] == "DELIVERY_001"
    outage = wait_status(http, org.test_key, ids["+14155550002"], "DELIVERED")
    retried = [e for e in outage["events"] if e["reason_code"] == "INTERNAL_003"]
    assert len(retried) == 2
    wait_status(http, org.test_key, ids["+14155550004"], "SENT")
    wait_status(http, org.test_key, ids["+14155550005"], "DELIVERED")
    time.sleep(0.5)
    assert message(http, org.test_key, ids["+14155550004"])["status"] == "SENT"
    contacts = assert_ok(
        http.get("/v3/contacts?phone=%2B14155550005", headers={"x-api-key": org.test_key})
    )
    deadline = time.monotonic() + 10
    while not contacts["contacts"][0]["opt_out"]:
        assert time.monotonic() < deadline, "0005 never replied STOP"
        time.sleep(0.05)
        contacts = assert_ok(
            http.get("/v3/contacts?phone=%2B14155550005", headers={"x-api-key": org.test_key})
        )
    # Four charged, the failed one refunded.
    assert balance(http, org.test_key) == before - 3 * SMS_PRICE


def test_schedule_release_and_cancel(live: LiveServer, http: httpx.Client) -> None:
    org = make_org(live)
    headers = {"x-api-key": org.test_key}
    before = balance(http, org.test_key)
    at = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    data = assert_ok(
        send(http, org.test_key, to=["+14155550150", "+14155550151"], scheduled_at=at), 202
    )
    assert "scheduled_at" in data
    first, second = (r["message_id"] for r in data["recipients"])
    held = message(http, org.test_key, first)
    assert held["status"] == "SCHEDULED" and "scheduled_at" in held
    cancelled = assert_ok(http.post(f"/v3/messages/{second}/cancel", json={}, headers=headers))
    assert cancelled["status"] == "CANCELLED"
    assert balance(http, org.test_key) == before - SMS_PRICE  # the cancelled one refunded
    live.app.state.clock.advance(timedelta(minutes=6))
    try:
        wait_status(http, org.test_key, first, "DELIVERED")
    finally:
        live.app.state.clock.offset = timedelta(0)
    error = assert_error(
        http.post(f"/v3/messages/{first}/cancel", json={}, headers=headers), "BUSINESS_006"
    )
    assert "status" in error["details"]


def test_unknown_foreign_and_other_mode_messages(live: LiveServer, http: httpx.Client) -> None:
    org, other = make_org(live), make_org(live)
    mine = assert_ok(send(http, org.test_key, to=["+14155550160"]), 202)["recipients"][0][
        "message_id"
    ]
    for key in (other.test_key, org.live_key):
        assert_error(http.get(f"/v3/messages/{mine}", headers={"x-api-key": key}), "RESOURCE_003")
    assert_error(
        http.get(
            "/v3/messages/00000000-0000-4000-8000-000000000000", headers={"x-api-key": org.test_key}
        ),
        "RESOURCE_003",
    )
    assert_error(
        http.get("/v3/messages/msg_1", headers={"x-api-key": org.test_key}), "VALIDATION_003"
    )


def test_sandbox_send_writes_nothing(live: LiveServer, http: httpx.Client) -> None:
    org = make_org(live)
    before = customer_counts(live, org.id)
    response = send(http, org.test_key, to=["+14155550170"], sandbox=True)
    assert assert_ok(response, 202)["recipients"][0]["to"] == "+14155550170"
    assert response.headers["x-sandbox"] == "true"
    assert customer_counts(live, org.id) == before


def test_message_events_reach_a_webhook(live: LiveServer, http: httpx.Client) -> None:
    org = make_org(live)
    with WebhookReceiver() as receiver:
        hook = {
            "display_name": "Msgs",
            "endpoint_url": receiver.url,
            "event_types": ["messages"],
            "event_filters": {"message": ["sent", "delivered"]},
        }
        receiver.secret = assert_ok(
            http.post("/v3/webhooks", json=hook, headers={"x-api-key": org.test_key}), 201
        )["signing_secret"]
        message_id = assert_ok(send(http, org.test_key, to=["+14155550180"], channel=["sms"]), 202)[
            "recipients"
        ][0]["message_id"]
        sent, delivered = receiver.wait_for(2)
        assert sent.verified and delivered.verified
        assert [sent.body["event"], delivered.body["event"]] == [
            "message.sent",
            "message.delivered",
        ]
        assert delivered.body["payload"]["message_id"] == message_id
        assert delivered.body["payload"]["message_status"] == "DELIVERED"


def test_concurrent_sends_never_overdraw(live: LiveServer) -> None:
    org = make_org(live, test_micros=10 * SMS_PRICE)
    statuses: list[int] = []

    def fire() -> None:
        with httpx.Client(base_url=live.base_url, timeout=30) as client:
            for n in range(4):
                statuses.append(
                    send(
                        client, org.test_key, to=[f"+1415556{threading.get_ident() % 1000:03d}{n}"]
                    ).status_code
                )

    threads = [threading.Thread(target=fire) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted = statuses.count(202)
    assert accepted == 10 and statuses.count(422) == 10
    with httpx.Client(base_url=live.base_url) as client:
        assert balance(client, org.test_key) == 0


def _race(live: LiveServer, key: str, count: int, *, keyed: bool) -> list[httpx.Response]:
    """`count` single sends at once (to different numbers, none a simulator magic number),
    over 16 connections; `keyed`, each with its own Idempotency-Key (sent alone), else without
    (the sends of one process share transactions: `services.send_groups`). A send shed with a
    retryable 503 (the pool's wait bound, on a loaded machine) is sent again, as the SDK does,
    until it has a final answer."""

    async def one(c: httpx.AsyncClient, n: int) -> httpx.Response:
        headers = {"x-api-key": key}
        if keyed:
            headers["Idempotency-Key"] = f"race-{uuid.uuid4()}"
        body = {"to": [f"+1415557{n + 1000:04d}"], "text": "race"}
        deadline = time.monotonic() + 60
        while True:
            response = await c.post("/v3/messages", json=body, headers=headers)
            retry = response.headers.get("x-should-retry") == "true"
            if response.status_code != 503 or not retry or time.monotonic() > deadline:
                return response
            await asyncio.sleep(0.05)

    async def go() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=16)
        async with httpx.AsyncClient(base_url=live.base_url, timeout=60, limits=limits) as c:
            return await asyncio.gather(*(one(c, n) for n in range(count)))

    return asyncio.run(go())


@pytest.mark.parametrize("keyed", [True, False], ids=["alone", "grouped"])
def test_200_concurrent_sends_against_a_balance_for_150_accept_exactly_150(
    live: LiveServer, keyed: bool
) -> None:
    org = make_org(live, test_micros=150 * SMS_PRICE)
    set_limits(
        live, org, requests_per_minute=100_000, requests_burst=100_000, messages_per_minute=100_000
    )
    responses = _race(live, org.test_key, 200, keyed=keyed)
    codes = [r.status_code for r in responses]
    assert codes.count(202) == 150 and codes.count(422) == 50, sorted(set(codes))
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 422} == {
        "BUSINESS_003"
    }
    assert balance_of(live, org.id, livemode=False) == 0
    assert customer_counts(live, org.id)["messages"] == 150


@pytest.mark.parametrize("keyed", [True, False], ids=["alone", "grouped"])
def test_200_concurrent_sends_against_a_daily_quota_of_150_accept_exactly_150(
    live: LiveServer, keyed: bool
) -> None:
    org = make_org(live, test_micros=1000 * SMS_PRICE)
    set_limits(
        live,
        org,
        requests_per_minute=100_000,
        requests_burst=100_000,
        messages_per_minute=100_000,
        messages_per_day=150,
    )
    responses = _race(live, org.test_key, 200, keyed=keyed)
    codes = [r.status_code for r in responses]
    assert codes.count(202) == 150 and codes.count(422) == 50, sorted(set(codes))
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 422} == {
        "BUSINESS_008"
    }
    assert balance_of(live, org.id, livemode=False) == 850 * SMS_PRICE
    assert customer_counts(live, org.id)["messages"] == 150


def test_the_organization_pays_when_the_profile_balance_is_short(
    live: LiveServer, http: httpx.Client
) -> None:
    org = make_org(live)
    headers = {"x-api-key": org.test_key}
    body = {
        "name": "Shop",
        "billing_model": "profile_and_organization",
        "billing_contact": BILLING,
    }
    profile = uuid.UUID(assert_ok(http.post("/v3/profiles", json=body, headers=headers), 201)["id"])
    credit(live, profile, SMS_PRICE + 100, livemode=False)
    as_profile = {**headers, "x-profile-id": str(profile)}
    org_before = balance_of(live, org.id, livemode=False)

    def send_as_profile(to: str) -> str:
        response = http.post("/v3/messages", json={"to": [to], "text": "Hi"}, headers=as_profile)
        return str(assert_ok(response, 202)["recipients"][0]["message_id"])

    send_as_profile("+14155550150")  # the profile's own balance covers the first
    assert balance_of(live, profile, livemode=False) == 100
    assert balance_of(live, org.id, livemode=False) == org_before
    send_as_profile("+14155550001")  # then the organization's pays; the number fails
    assert balance_of(live, profile, livemode=False) == 100
    assert balance_of(live, org.id, livemode=False) == org_before - SMS_PRICE
    # The refund of the failed message goes back to the balance that paid for it.
    deadline = time.monotonic() + 15
    while balance_of(live, org.id, livemode=False) != org_before:
        assert time.monotonic() < deadline, "the organization was not refunded"
        time.sleep(0.05)
    assert balance_of(live, profile, livemode=False) == 100


def test_concurrent_first_sends_to_a_number_share_one_contact(live: LiveServer) -> None:
    org = make_org(live)
    statuses: list[int] = []

    def fire() -> None:
        with httpx.Client(base_url=live.base_url, timeout=30) as client:
            statuses.append(send(client, org.test_key, to=["+14155550170"]).status_code)

    threads = [threading.Thread(target=fire) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [202] * 6
    with httpx.Client(base_url=live.base_url) as client:
        found = assert_ok(
            client.get(
                "/v3/contacts",
                params={"search": "+14155550170"},
                headers={"x-api-key": org.test_key},
            )
        )["contacts"]
        assert len(found) == 1
        listed = assert_ok(client.get("/v3/messages", headers={"x-api-key": org.test_key}))[
            "messages"
        ]
    assert len(listed) == 6 and {m["contact_id"] for m in listed} == {found[0]["id"]}


def test_contact_summary_and_conversations(live: LiveServer, http: httpx.Client) -> None:
    org = make_org(live)
    headers = {"x-api-key": org.test_key}
    ids = [
        assert_ok(send(http, org.test_key, to=["+14155550190"], channel=["sms"]), 202)[
            "recipients"
        ][0]["message_id"]
        for _ in range(2)
    ]
    for message_id in ids:
        wait_status(http, org.test_key, message_id, "DELIVERED")
    contact = assert_ok(http.get("/v3/contacts?phone=%2B14155550190", headers=headers))["contacts"][
        0
    ]
    summary = assert_ok(http.get(f"/v3/contacts/{contact['id']}/message-summary", headers=headers))
    assert summary["message_count"] == 2 and summary["channels_used"] == ["sms"]
    assert summary["channel_scores"] == [{"channel": "sms", "success_score": 100, "fail_score": 0}]
    convo = assert_ok(http.get(f"/v3/conversations/{contact['id']}", headers=headers))
    assert [m["id"] for m in convo["messages"]] == list(reversed(ids))
    everything = assert_ok(http.get("/v3/conversations?page_size=1", headers=headers))
    assert everything["pagination"]["total_count"] == 2 and everything["pagination"]["has_more"]
