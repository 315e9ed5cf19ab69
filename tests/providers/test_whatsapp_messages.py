"""The WhatsApp Cloud API messages provider, over real HTTP: submissions against a local fake of
the Cloud API (tests/fakes/whatsapp.py), and Meta's signed `messages` webhooks — delivery
statuses and inbound messages — posted to a live sentd."""

from __future__ import annotations

import asyncio
import random
import socket
import uuid
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI

from sentd.db.repos import contacts, messages
from sentd.db.scope import Scope
from sentd.phones import InvalidPhoneNumber, describe
from sentd.providers import whatsapp_messages
from sentd.providers.base import OutboundMessage, ProviderError, Submission, TemplateRef
from sentd.providers.whatsapp_messages import MessagesConfig, WhatsAppProvider, refusal
from sentd.providers.whatsapp_templates import WhatsAppConfig
from sentd.services.contacts import find_or_create
from tests.conftest import build_app, make_settings
from tests.contract import assert_error, assert_ok
from tests.factories import Org, make_org
from tests.fakes.whatsapp import (
    FakeWhatsApp,
    inbound_message,
    send_inbound,
    send_message_status,
    send_status_update,
    status_update,
)
from tests.live_server import LiveServer
from tests.waiting import wait_until

WABA, PHONE_ID, TOKEN = "100200300", "108000000000001", "settings-token"
OWN_PHONE_ID, OWN_TOKEN = "108000000000222", "own-token"
APP_SECRET = "app-secret-messages"
WEBHOOK = "/providers/whatsapp/webhook"
RECIPIENT = "+14155550123"
WA_TEMPLATE = "order_shipped_1a2b3c4d"
WA_BODY = "Hi {{1}}, your order {{2}} has shipped and arrives soon."
SENTD_BODY = "Hi {{0:name}}, your order {{1:order_id}} has shipped and arrives soon."


class Setup:
    def __init__(self, server: LiveServer, fake: FakeWhatsApp) -> None:
        self.server = server
        self.fake = fake
        self.webhook_url = server.base_url + WEBHOOK
        self.state = cast(FastAPI, server.app).state  # db, clock, providers

    @property
    def provider(self) -> WhatsAppProvider:
        provider = self.state.providers.by_name["whatsapp"]
        assert isinstance(provider, WhatsAppProvider)
        return provider

    def submit(
        self, message: OutboundMessage, provider: WhatsAppProvider | None = None
    ) -> Submission:
        """Submit on the server's loop, as its dispatcher would."""
        result: Submission = self.server.run((provider or self.provider).submit(message))
        return result

    def refused(
        self, message: OutboundMessage, provider: WhatsAppProvider | None = None
    ) -> ProviderError:
        """The error of a refused submission (closing `provider`, a one-off, afterwards)."""
        try:
            with pytest.raises(ProviderError) as caught:
                self.submit(message, provider)
        finally:
            if provider is not None:
                self.server.run(provider.aclose())
        return caught.value


@pytest.fixture(scope="module")
def wa_server(database_url: str) -> Iterator[Setup]:
    with FakeWhatsApp({WABA: TOKEN}, {PHONE_ID: TOKEN, OWN_PHONE_ID: OWN_TOKEN}) as fake:
        app = build_app(
            database_url,
            whatsapp_provider="whatsapp",
            whatsapp_api_base=fake.base_url,
            whatsapp_access_token=TOKEN,
            whatsapp_phone_number_id=PHONE_ID,
            whatsapp_waba_id=WABA,
            whatsapp_app_secret=APP_SECRET,
        )
        live = LiveServer(app).start()
        try:
            yield Setup(live, fake)
        finally:
            live.stop()


@pytest.fixture
def wa(wa_server: Setup) -> Setup:
    """The module's server and fake, with the fake's knobs and records reset."""
    fake = wa_server.fake
    fake.requests.clear()
    fake.sent.clear()
    fake.templates.clear()
    fake.refused_numbers.clear()
    fake.fail_next, fake.fail_status, fake.delay_s = 0, 500, 0.0
    fake.add_template(WA_TEMPLATE, "en_US", WA_BODY, waba_id=WABA)
    return wa_server


def outbound(
    *,
    text: str = "Hi Ada, your order A-100 has shipped and arrives soon.",
    template: TemplateRef | None = None,
    to: str = RECIPIENT,
    account: dict[str, Any] | None = None,
) -> OutboundMessage:
    return OutboundMessage(
        id=uuid.uuid4(),
        channel="whatsapp",
        to=to,
        text=text,
        template=template,
        account=account,
    )


def order_template(
    whatsapp_name: str | None = WA_TEMPLATE, parameters: list[str] | None = None
) -> TemplateRef:
    return TemplateRef(
        id=uuid.uuid4(),
        name="Order shipped",
        language="en_US",
        whatsapp_name=whatsapp_name,
        parameters=["Ada", "A-100"] if parameters is None else parameters,
    )


# -- submitting ---------------------------------------------------------------------------


def test_the_provider_is_registered_for_live_whatsapp(wa: Setup) -> None:
    providers = wa.state.providers
    assert providers.for_channel("whatsapp", True) is wa.provider
    assert wa.provider.name == "whatsapp" and wa.provider.channels == frozenset({"whatsapp"})
    assert providers.for_channel("whatsapp", False).name == "simulator"
    assert providers.for_channel("sms", True) is not wa.provider


def test_from_settings_only_when_chosen_or_configured(database_url: str) -> None:
    assert whatsapp_messages.from_settings(make_settings(database_url)) is None
    chosen = make_settings(database_url, whatsapp_provider="whatsapp")
    assert isinstance(whatsapp_messages.from_settings(chosen), WhatsAppProvider)
    configured = make_settings(
        database_url, whatsapp_access_token="t", whatsapp_phone_number_id="1"
    )
    provider = whatsapp_messages.from_settings(configured)
    assert provider is not None and provider.config.phone_number_id == "1"


def test_a_template_message(wa: Setup) -> None:
    submission = wa.submit(outbound(template=order_template()))
    [sent] = wa.fake.sent
    assert submission == Submission(sent["wamid"]) and sent["wamid"].startswith("wamid.")
    [call] = wa.fake.requests
    assert (call["method"], call["path"]) == ("POST", f"/v21.0/{PHONE_ID}/messages")
    assert call["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert call["headers"]["content-type"] == "application/json"
    assert call["json"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "14155550123",
        "type": "template",
        "template": {
            "name": WA_TEMPLATE,
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Ada"},
                        {"type": "text", "text": "A-100"},
                    ],
                }
            ],
        },
    }


def test_a_template_without_variables_has_no_components(wa: Setup) -> None:
    wa.fake.add_template("welcome_00ff00ff", "pt_BR", "Bem-vindo à nossa loja!")
    template = TemplateRef(uuid.uuid4(), "Welcome", "pt_BR", "welcome_00ff00ff", [])
    wa.submit(outbound(template=template))
    assert wa.fake.requests[0]["json"]["template"] == {
        "name": "welcome_00ff00ff",
        "language": {"code": "pt_BR"},
    }


def test_a_text_message(wa: Setup) -> None:
    submission = wa.submit(outbound(text="Your table is ready", to="+447911123456"))
    assert submission.provider_message_id == wa.fake.sent[0]["wamid"]
    assert wa.fake.requests[0]["json"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "447911123456",
        "type": "text",
        "text": {"body": "Your table is ready"},
    }


def test_the_customers_own_account_comes_first(wa: Setup) -> None:
    own = {"waba_id": "999", "access_token": OWN_TOKEN, "phone_number_id": OWN_PHONE_ID}
    wa.submit(outbound(account=own))
    # Without its own phone number id, the customer's account cannot send: the settings' does.
    wa.submit(outbound(account={"waba_id": "999", "access_token": OWN_TOKEN}))
    first, second = wa.fake.requests
    assert first["path"] == f"/v21.0/{OWN_PHONE_ID}/messages"
    assert first["headers"]["authorization"] == f"Bearer {OWN_TOKEN}"
    assert second["path"] == f"/v21.0/{PHONE_ID}/messages"
    assert second["headers"]["authorization"] == f"Bearer {TOKEN}"


def test_refusals_are_permanent_with_whatsapps_code(wa: Setup) -> None:
    wa.fake.refused_numbers.add("14155550123")
    error = wa.refused(outbound())
    assert (error.transient, error.reason_code) == (False, "WHATSAPP_131026")
    assert "Message undeliverable" in str(error)

    error = wa.refused(outbound(template=order_template("no_such_template")))
    assert (error.transient, error.reason_code) == (False, "WHATSAPP_132001")
    error = wa.refused(outbound(template=order_template(parameters=["Ada"]), to="+14157001234"))
    assert (error.transient, error.reason_code) == (False, "WHATSAPP_132000")
    error = wa.refused(outbound(text="", to="+14157001234"))  # Graph: text['body'] is required
    assert (error.transient, error.reason_code) == (False, "WHATSAPP_100")
    assert wa.fake.sent == []


def test_a_template_whatsapp_never_saw_is_refused_without_a_call(wa: Setup) -> None:
    error = wa.refused(outbound(template=order_template(whatsapp_name=None)))
    assert (error.transient, error.reason_code) == (False, "WHATSAPP_132001")
    assert wa.fake.requests == []


def test_bad_or_missing_credentials_are_permanent(wa: Setup) -> None:
    stale = {"phone_number_id": OWN_PHONE_ID, "access_token": "expired-token", "waba_id": "9"}
    error = wa.refused(outbound(account=stale))
    assert (error.transient, error.reason_code) == (False, "WHATSAPP_AUTH")
    assert "Invalid OAuth access token" in str(error)

    unconfigured = WhatsAppProvider(MessagesConfig(WhatsAppConfig(api_base=wa.fake.base_url)))
    error = wa.refused(outbound(), unconfigured)
    assert (error.transient, error.reason_code) == (False, "WHATSAPP_AUTH")
    assert len(wa.fake.requests) == 1  # the unconfigured provider called no one


@pytest.mark.parametrize("status", [500, 429])
def test_outages_and_throttling_are_transient(wa: Setup, status: int) -> None:
    wa.fake.fail_next, wa.fake.fail_status = 1, status
    error = wa.refused(outbound())
    assert (error.transient, error.reason_code) == (True, "INTERNAL_003")
    assert f"({status}, code" in str(error)
    # The next attempt goes through.
    assert wa.submit(outbound()).provider_message_id == wa.fake.sent[0]["wamid"]


def test_time_outs_and_connection_errors_are_transient(wa: Setup) -> None:
    config = MessagesConfig(WhatsAppConfig(api_base=wa.fake.base_url, access_token=TOKEN), PHONE_ID)
    wa.fake.delay_s = 1.0

    async def slow() -> ProviderError:
        provider = WhatsAppProvider(config, timeout=0.2)
        try:
            with pytest.raises(ProviderError) as caught:
                await provider.submit(outbound())
            return caught.value
        finally:
            await provider.aclose()

    error = asyncio.run(slow())
    assert (error.transient, error.reason_code) == (True, "INTERNAL_003")
    assert "in time" in str(error)
    wa.fake.delay_s = 0.0

    base = f"http://127.0.0.1:{unused_port()}/v21.0"
    unreachable = MessagesConfig(WhatsAppConfig(api_base=base, access_token=TOKEN), PHONE_ID)
    error = wa.refused(outbound(), WhatsAppProvider(unreachable))
    assert (error.transient, error.reason_code) == (True, "INTERNAL_003")
    assert "could not be reached" in str(error)


def unused_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("status", "answer", "transient", "reason_code"),
    [
        (
            400,
            {"error": {"code": 131047, "message": "Re-engagement message"}},
            False,
            "WHATSAPP_131047",
        ),
        (400, {"error": {"code": 100, "message": "Invalid parameter"}}, False, "WHATSAPP_100"),
        (400, {"error": {"code": 190, "message": "Session has expired"}}, False, "WHATSAPP_AUTH"),
        (403, {"error": {"code": 200, "message": "Permissions error"}}, False, "WHATSAPP_AUTH"),
        (400, {"error": {"code": 80007, "message": "Rate limit issues"}}, True, "INTERNAL_003"),
        (400, {"error": {"code": 130429, "message": "Rate limit hit"}}, True, "INTERNAL_003"),
        (503, None, True, "INTERNAL_003"),
        (400, None, False, "WHATSAPP_HTTP_400"),
    ],
)
def test_graph_errors_map_to_reason_codes(
    status: int, answer: Any, transient: bool, reason_code: str
) -> None:
    error = refusal(status, answer, "<html>Bad Request</html>")
    assert (error.transient, error.reason_code) == (transient, reason_code)


# -- delivery statuses ------------------------------------------------------------------------


def sent_message(wa: Setup, org: Org, to: str = RECIPIENT) -> tuple[uuid.UUID, str]:
    """A live WhatsApp message WhatsApp accepted (status SENT, with its wamid), as the
    dispatcher leaves it."""
    wamid = "wamid." + uuid.uuid4().hex
    message_id = uuid.uuid4()

    async def go() -> None:
        async with wa.state.db.transaction() as conn:
            contact = await find_or_create(conn, Scope(org.id, True), to)
            now = wa.state.clock.now()
            await messages.insert_many(
                conn,
                [
                    {
                        "id": message_id,
                        "customer_id": org.id,
                        "livemode": True,
                        "contact_id": contact["id"],
                        "direction": "OUTBOUND",
                        "channel": "whatsapp",
                        "status": "SENT",
                        "phone_e164": contact["phone_e164"],
                        "phone_international": contact["format_international"],
                        "region_code": contact["region_code"],
                        "body": {"content": "Your order has shipped"},
                        "provider": "whatsapp",
                        "provider_message_id": wamid,
                        "attempts": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                ],
            )

    wa.server.run(go())
    return message_id, wamid


def stored(wa: Setup, message_id: uuid.UUID) -> tuple[Any, list[tuple[str, str | None]]]:
    """The message's row and its status history (status, reason code)."""

    async def go() -> tuple[Any, list[tuple[str, str | None]]]:
        async with wa.state.db.connection() as conn:
            row = await messages.get(conn, message_id)
            events = await messages.events_of(conn, message_id)
            return row, [(e["status"], e["reason_code"]) for e in events]

    return wa.server.run(go())


def emitted(wa: Setup, customer_id: uuid.UUID, prefix: str) -> list[str]:
    async def go() -> list[str]:
        async with wa.state.db.connection() as conn:
            rows = await conn.fetch(
                "SELECT event_type FROM events WHERE customer_id = $1 AND event_type LIKE $2 "
                "ORDER BY created_at",
                customer_id,
                prefix + "%",
            )
            return [r["event_type"] for r in rows]

    return wa.server.run(go())


def status(wa: Setup, wamid: str, kind: str, **fields: Any) -> httpx.Response:
    fields.setdefault("recipient", RECIPIENT)
    return send_message_status(wa.webhook_url, APP_SECRET, wamid, kind, **fields)


def test_status_webhooks_must_be_signed(wa: Setup) -> None:
    org = make_org(wa.server)
    message_id, wamid = sent_message(wa, org)
    assert_error(status(wa, wamid, "delivered", signature="sha256=" + "0" * 64), "PROVIDER_001")
    forged = send_message_status(
        wa.webhook_url, "not-the-secret", wamid, "delivered", recipient=RECIPIENT
    )
    assert_error(forged, "PROVIDER_001")
    assert stored(wa, message_id)[0].status == "SENT"
    assert assert_ok(status(wa, wamid, "delivered")) == {"handled": 1, "ignored": 0}
    assert stored(wa, message_id)[0].status == "DELIVERED"


def test_sent_delivered_read(wa: Setup) -> None:
    org = make_org(wa.server)
    message_id, wamid = sent_message(wa, org)
    for kind in ("sent", "delivered", "read"):
        assert_ok(status(wa, wamid, kind))
    row, events = stored(wa, message_id)
    assert row.status == "READ"
    assert events == [("DELIVERED", None), ("READ", None)]  # it already was SENT
    assert emitted(wa, org.id, "message.") == ["message.delivered", "message.read"]


def test_read_before_delivered_and_late_or_repeated_statuses(wa: Setup) -> None:
    org = make_org(wa.server)
    message_id, wamid = sent_message(wa, org)
    assert_ok(status(wa, wamid, "read"))
    assert stored(wa, message_id)[0].status == "READ"
    # Late (delivered, sent after read), repeated (read again) and failed after read: ignored,
    # but acknowledged, so Meta does not deliver them again.
    for kind in ("delivered", "read", "sent"):
        assert assert_ok(status(wa, wamid, kind)) == {"handled": 1, "ignored": 0}
    assert_ok(status(wa, wamid, "failed", error=(131026, "Message undeliverable")))
    row, events = stored(wa, message_id)
    assert row.status == "READ" and row.reason_code is None
    assert events == [("READ", None)]


def test_a_failure_carries_whatsapps_code_and_title(wa: Setup) -> None:
    org = make_org(wa.server)
    message_id, wamid = sent_message(wa, org)
    response = status(wa, wamid, "failed", error=(131047, "Re-engagement message"))
    assert assert_ok(response) == {"handled": 1, "ignored": 0}
    row, events = stored(wa, message_id)
    assert (row.status, row.reason_code, row.reason) == (
        "FAILED",
        "WHATSAPP_131047",
        "Re-engagement message",
    )
    assert events == [("FAILED", "WHATSAPP_131047")]
    # A final state: nothing moves it again.
    assert_ok(status(wa, wamid, "delivered"))
    assert stored(wa, message_id)[0].status == "FAILED"
    assert emitted(wa, org.id, "message.") == ["message.failed"]


def test_statuses_of_unknown_messages_are_acknowledged(wa: Setup) -> None:
    response = status(wa, "wamid.never-sent-by-sentd", "delivered")
    assert assert_ok(response) == {"handled": 1, "ignored": 0}


# -- inbound messages -------------------------------------------------------------------------


def free_number() -> str:
    """A valid US mobile number no other test uses."""
    while True:
        number = f"+1415{random.randint(2_000_000, 9_999_999)}"
        try:
            describe(number)
        except InvalidPhoneNumber:
            continue
        return number


def whatsapp_profile(wa: Setup, org: Org) -> tuple[uuid.UUID, str]:
    """A sender profile of `org` with its own WhatsApp number: (its id, the number)."""
    number = free_number()
    headers = {"x-api-key": org.live_key}
    with httpx.Client(base_url=wa.server.base_url, headers=headers, timeout=30) as client:
        body = {"name": "Shop", "billing_model": "organization"}
        profile = assert_ok(client.post("/v3/profiles", json=body), 201)
        patch = {"whatsapp_phone_number": number}
        assert_ok(client.patch(f"/v3/profiles/{profile['id']}", json=patch))
    return uuid.UUID(profile["id"]), number


def inbound_rows(wa: Setup, customer_id: uuid.UUID) -> list[Any]:
    async def go() -> list[Any]:
        async with wa.state.db.connection() as conn:
            rows = await conn.fetch(
                "SELECT m.direction, m.status, m.channel, m.livemode, m.body, m.from_number, "
                "m.phone_e164, m.provider, m.provider_message_id, c.opt_out "
                "FROM messages m JOIN contacts c ON c.id = m.contact_id "
                "WHERE m.customer_id = $1 AND m.direction = 'INBOUND' ORDER BY m.created_at",
                customer_id,
            )
            return list(rows)

    return wa.server.run(go())


def contact_of(wa: Setup, customer_id: uuid.UUID, number: str) -> Any:
    async def go() -> Any:
        async with wa.state.db.connection() as conn:
            return await contacts.get_by_phone(conn, Scope(customer_id, True), number)

    return wa.server.run(go())


SENDER = "+447911123456"


def test_an_inbound_text_creates_a_message_and_a_contact(wa: Setup) -> None:
    org = make_org(wa.server)
    profile_id, number = whatsapp_profile(wa, org)
    assert contact_of(wa, profile_id, SENDER) is None
    wamid = "wamid.inbound-" + uuid.uuid4().hex
    # Meta sends the business number without '+'.
    payload = inbound_message(
        SENDER, text="Is my order on its way?", wamid=wamid, display_phone_number=number[1:]
    )
    response = send_status_update(wa.webhook_url, payload, APP_SECRET)
    assert assert_ok(response) == {"handled": 1, "ignored": 0}
    [row] = inbound_rows(wa, profile_id)
    assert (row["direction"], row["status"], row["channel"], row["livemode"]) == (
        "INBOUND",
        "RECEIVED",
        "whatsapp",
        True,
    )
    assert row["body"]["content"] == "Is my order on its way?"
    assert (row["phone_e164"], row["from_number"]) == (SENDER, number)
    assert (row["provider"], row["provider_message_id"]) == ("whatsapp", wamid)
    contact = contact_of(wa, profile_id, SENDER)
    assert contact is not None and contact["opt_out"] is False
    assert emitted(wa, profile_id, "message.") == ["message.received"]
    # Meta delivers again: nothing new.
    assert_ok(send_status_update(wa.webhook_url, payload, APP_SECRET))
    assert len(inbound_rows(wa, profile_id)) == 1


def test_stop_opts_the_contact_out(wa: Setup) -> None:
    org = make_org(wa.server)
    profile_id, number = whatsapp_profile(wa, org)
    response = send_inbound(
        wa.webhook_url, APP_SECRET, SENDER, text="stop ", display_phone_number=number[1:]
    )
    assert_ok(response)
    contact = contact_of(wa, profile_id, SENDER)
    assert contact["opt_out"] is True
    assert emitted(wa, profile_id, "contact.") == ["contact.opt_out"]


def test_button_and_interactive_replies_are_their_text(wa: Setup) -> None:
    org = make_org(wa.server)
    profile_id, number = whatsapp_profile(wa, org)
    display = number[1:]
    replies = [
        ("button", {"text": "Track my order", "payload": "track"}),
        ("interactive", {"type": "button_reply", "button_reply": {"id": "y", "title": "Yes"}}),
        (
            "interactive",
            {
                "type": "list_reply",
                "list_reply": {"id": "2", "title": "Tomorrow", "description": "9-12"},
            },
        ),
        ("image", {"id": "media-1", "mime_type": "image/jpeg", "caption": "The parcel"}),
    ]
    for kind, content in replies:
        response = send_inbound(
            wa.webhook_url,
            APP_SECRET,
            SENDER,
            kind=kind,
            content=content,
            display_phone_number=display,
        )
        assert_ok(response)
    # A reaction is acknowledged and not stored.
    reaction = {"message_id": "wamid.x", "emoji": "👍"}
    assert_ok(
        send_inbound(
            wa.webhook_url,
            APP_SECRET,
            SENDER,
            kind="reaction",
            content=reaction,
            display_phone_number=display,
        )
    )
    texts = [row["body"]["content"] for row in inbound_rows(wa, profile_id)]
    assert texts == ["Track my order", "Yes", "Tomorrow", "The parcel"]


def test_inbound_webhooks_must_be_signed(wa: Setup) -> None:
    org = make_org(wa.server)
    profile_id, number = whatsapp_profile(wa, org)
    forged = send_inbound(
        wa.webhook_url,
        APP_SECRET,
        SENDER,
        text="hello",
        display_phone_number=number[1:],
        signature="sha256=" + "ab" * 32,
    )
    assert_error(forged, "PROVIDER_001")
    assert inbound_rows(wa, profile_id) == []
    assert contact_of(wa, profile_id, SENDER) is None


def test_inbound_to_a_number_no_one_has_is_acknowledged_and_dropped(wa: Setup) -> None:
    make_org(wa.server)
    make_org(wa.server)  # two organizations: no single-tenant fallback
    nobody = free_number()
    response = send_inbound(
        wa.webhook_url, APP_SECRET, SENDER, text="hello?", display_phone_number=nobody[1:]
    )
    assert assert_ok(response) == {"handled": 1, "ignored": 0}

    async def count() -> int:
        async with wa.state.db.connection() as conn:
            value: int = await conn.fetchval(
                "SELECT count(*) FROM messages WHERE direction = 'INBOUND' AND from_number = $1",
                nobody,
            )
            return value

    assert wa.server.run(count()) == 0


# -- end to end: POST /v3/messages → the dispatcher → WhatsApp → Meta's webhook -------------------


def test_a_live_template_message_end_to_end(database_url: str) -> None:
    with FakeWhatsApp({WABA: TOKEN}, {PHONE_ID: TOKEN}) as fake:
        app = build_app(
            database_url,
            run_workers=True,
            template_review_backend="whatsapp",
            whatsapp_provider="whatsapp",
            whatsapp_api_base=fake.base_url,
            whatsapp_access_token=TOKEN,
            whatsapp_phone_number_id=PHONE_ID,
            whatsapp_waba_id=WABA,
            whatsapp_app_secret=APP_SECRET,
        )
        live = LiveServer(app).start()
        try:
            end_to_end(live, fake)
        finally:
            live.stop()


def end_to_end(live: LiveServer, fake: FakeWhatsApp) -> None:
    org = make_org(live)
    webhook_url = live.base_url + WEBHOOK
    to = free_number()
    variables = [
        {"id": 0, "name": "name", "type": "variable", "props": {"sample": "Ada"}},
        {"id": 1, "name": "order_id", "type": "variable", "props": {"sample": "A-100"}},
    ]
    definition = {
        "body": {
            "multiChannel": {
                "template": SENTD_BODY,
                "type": "text",
                "variables": variables,
            }
        }
    }
    headers = {"x-api-key": org.live_key}
    with httpx.Client(base_url=live.base_url, headers=headers, timeout=30) as client:
        # An APPROVED template WhatsApp knows: submitted to the fake, approved by Meta's webhook.
        body = {"name": "Shipped e2e", "definition": definition, "submit_for_review": True}
        template = assert_ok(client.post("/v3/templates", json=body), 201)

        def submitted() -> Any:
            data = assert_ok(client.get(f"/v3/templates/{template['id']}"))
            return data if data["whatsapp_template_id"] else None

        data = wait_until(submitted, "the template's submission to WhatsApp")
        wa_name = f"shipped_e2e_{uuid.UUID(template['id']).hex[:8]}"
        approved = status_update(WABA, data["whatsapp_template_id"], "APPROVED", name=wa_name)
        assert_ok(send_status_update(webhook_url, approved, APP_SECRET))
        assert assert_ok(client.get(f"/v3/templates/{template['id']}"))["status"] == "APPROVED"

        send = {
            "to": [to],
            "channel": ["whatsapp"],
            "template": {"id": template["id"], "parameters": {"name": "Ada", "order_id": "A-7"}},
        }
        accepted = assert_ok(client.post("/v3/messages", json=send), 202)
        [recipient] = accepted["recipients"]
        assert recipient["channel"] == "whatsapp"
        message_id = recipient["message_id"]

        def sent_to_fake() -> Any:
            return [s for s in list(fake.sent) if s["body"]["to"] == to[1:]]

        [sent] = wait_until(sent_to_fake, "the message at the fake")
        assert sent["phone_number_id"] == PHONE_ID
        assert sent["body"]["template"] == {
            "name": wa_name,
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Ada"},
                        {"type": "text", "text": "A-7"},
                    ],
                }
            ],
        }

        def message_is(status: str) -> Any:
            data = assert_ok(client.get(f"/v3/messages/{message_id}"))
            return data if data["status"] == status else None

        wait_until(lambda: message_is("SENT"), "SENT")
        for kind in ("delivered", "read"):
            response = send_message_status(
                webhook_url,
                APP_SECRET,
                sent["wamid"],
                kind,
                recipient=to,
                phone_number_id=PHONE_ID,
            )
            assert assert_ok(response) == {"handled": 1, "ignored": 0}
        data = message_is("READ")
        assert data is not None, assert_ok(client.get(f"/v3/messages/{message_id}"))
        statuses = [e["status"] for e in data["events"]]
        assert statuses[-3:] == ["SENT", "DELIVERED", "READ"]
