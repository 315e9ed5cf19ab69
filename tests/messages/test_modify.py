"""`PATCH /v3/messages/{id}` and configurable inbound keywords."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from sentd.app import create_app
from sentd.config import Settings
from sentd.services import inbound
from tests.api.test_templates import created
from tests.contract import assert_error, assert_ok
from tests.factories import make_org
from tests.live_server import LiveServer


def send(client: httpx.Client, key: str, **body: object) -> str:
    response = client.post("/v3/messages", json=body, headers={"x-api-key": key})
    message_id: str = assert_ok(response, 202)["recipients"][0]["message_id"]
    return message_id


def patch(client: httpx.Client, key: str, message_id: str, **body: object) -> httpx.Response:
    return client.patch(f"/v3/messages/{message_id}", json=body, headers={"x-api-key": key})


def later(minutes: int) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def test_reschedule_and_change_text(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    key = org.test_key
    held = send(client, key, to=["+14155550200"], text="Old", scheduled_at=later(10))
    data = assert_ok(patch(client, key, held, scheduled_at=later(20), text="New"))
    assert data["status"] == "SCHEDULED" and data["message_body"]["content"] == "New"
    assert data["events"][-1]["description"] == "Modified (body, scheduled_at)"
    assert_error(patch(client, key, held, scheduled_at=later(60 * 24 * 31)), "VALIDATION_005")
    assert_error(patch(client, key, held), "VALIDATION_004")
    queued = send(client, key, to=["+14155550201"], text="Now")  # no worker runs here
    assert_error(patch(client, key, queued, scheduled_at=later(10)), "BUSINESS_006")
    assert (
        assert_ok(patch(client, key, queued, text="Edited"))["message_body"]["content"] == "Edited"
    )
    assert_error(patch(client, key, queued, parameters={"a": "b"}), "VALIDATION_001")


def test_change_template_parameters(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    key = org.test_key
    template = created(client, key, name="shipping")
    body = {"id": template["id"], "parameters": {"name": "Ada", "order_id": "1"}}
    message_id = send(client, key, to=["+14155550202"], channel=["sms"], template=body)
    data = assert_ok(patch(client, key, message_id, parameters={"name": "Bo", "order_id": "2"}))
    assert data["message_body"]["content"] == "Hi Bo, your order 2 has shipped and arrives soon."
    error = assert_error(
        patch(client, key, message_id, parameters={"name": "Bo"}), "VALIDATION_004"
    )
    assert "template.parameters.order_id" in error["details"]
    assert_error(patch(client, key, message_id, text="x"), "VALIDATION_001")


def test_a_sent_message_cannot_change(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    message_id = send(client, org.test_key, to=["+14155550203"], text="Hi")

    async def mark_sent() -> None:
        async with server.app.state.db.transaction() as conn:
            await conn.execute(
                "UPDATE messages SET status = 'SENT' WHERE id = $1",
                __import__("uuid").UUID(message_id),
            )

    server.run(mark_sent())
    error = assert_error(patch(client, org.test_key, message_id, text="Too late"), "BUSINESS_006")
    assert "status" in error["details"]
    assert_error(patch(client, org.live_key, message_id, text="x"), "RESOURCE_003")


def test_keywords_are_configurable(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)

    words = inbound.Keywords.of(["ARRET"], ["DEMARRER"], ["AIDE"])

    async def receive(text: str, provider_id: str) -> None:
        async with server.app.state.db.transaction() as conn:
            await inbound.receive(
                conn,
                customer_id=org.id,
                organization_id=org.id,
                livemode=True,
                channel="sms",
                from_number="+14155550210",
                to_number=None,
                text=text,
                provider="test",
                provider_message_id=provider_id,
                received_at=server.app.state.clock.now(),
                keywords=words,
            )

    def opted_out() -> bool:
        listed = client.get(
            "/v3/contacts?phone=%2B14155550210", headers={"x-api-key": org.live_key}
        )
        return bool(assert_ok(listed)["contacts"][0]["opt_out"])

    server.run(receive("stop", "k1"))  # not a keyword any more
    assert not opted_out()
    server.run(receive(" arret ", "k2"))
    assert opted_out()
    server.run(receive("Demarrer", "k3"))
    assert not opted_out()


def test_the_app_receives_with_the_keywords_of_its_settings() -> None:
    settings = Settings(
        database_url="postgresql://unused/unused",
        opt_out_keywords=["arret"],
        opt_in_keywords=["demarrer"],
        help_keywords=["aide"],
    )
    app = create_app(settings)
    assert app.state.keywords == inbound.Keywords(
        frozenset({"ARRET"}), frozenset({"DEMARRER"}), frozenset({"AIDE"})
    )
    assert set(app.state.whatsapp_handlers) == {"messages", "message_template_status_update"}


def test_whatsapp_webhook_answers_at_both_paths(database_url: str) -> None:
    from tests.conftest import build_app

    app_server = LiveServer(build_app(database_url, whatsapp_verify_token="tok")).start()
    try:
        query = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "4242"}
        for path in ("/providers/whatsapp", "/providers/whatsapp/webhook"):
            response = httpx.get(f"{app_server.base_url}{path}", params=query)
            assert response.status_code == 200 and response.text == "4242"
    finally:
        app_server.stop()
