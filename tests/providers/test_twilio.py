"""The Twilio provider over real HTTP: submissions against a fake of Twilio's Messages API, and
Twilio's signed callbacks (status, inbound) into a live sentd."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sentd.config import Settings
from sentd.db.repos import contacts as contacts_repo
from sentd.db.repos import messages, sending_numbers
from sentd.db.scope import Scope
from sentd.ids import new_id
from sentd.providers import twilio
from sentd.providers.base import OutboundMessage, ProviderError, Submission
from sentd.providers.registry import Providers
from sentd.providers.setup import build_providers
from sentd.providers.twilio import TwilioConfig, TwilioProvider
from sentd.services.contacts import find_or_create
from tests.conftest import build_app, make_settings
from tests.contract import assert_error, assert_ok
from tests.factories import Org, make_org
from tests.fakes.twilio import FakeTwilio, sign
from tests.live_server import LiveServer

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
OTHER_SID = "AC" + "fedcba9876543210" * 2
OTHER_TOKEN = "00112233445566778899aabbccddeeff"
FROM = "+15005550006"
SERVICE = "MG" + "abcdef0123456789" * 2
PUBLIC = "https://sentd.example.test"
STATUS = "/providers/twilio/status"
INBOUND = "/providers/twilio/inbound"


def number() -> str:
    """A fresh valid US number."""
    return f"+1415555{secrets.randbelow(10_000):04d}"


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio({SID: TOKEN, OTHER_SID: OTHER_TOKEN}) as fake:
        yield fake


@pytest.fixture
def fake(fake_twilio: FakeTwilio) -> Iterator[FakeTwilio]:
    yield fake_twilio
    fake_twilio.fail_next = 0
    fake_twilio.fail_status = 500
    fake_twilio.refuse.clear()
    fake_twilio.delay_s = 0.0
    fake_twilio.suspended.clear()
    fake_twilio.route_callbacks_to = None


def twilio_settings(fake: FakeTwilio, **overrides: Any) -> dict[str, Any]:
    return {
        "sms_provider": "twilio",
        "mms_provider": "twilio",
        "twilio_api_base": fake.base_url,
        "twilio_account_sid": SID,
        "twilio_auth_token": TOKEN,
        "twilio_from_number": FROM,
        **overrides,
    }


@pytest.fixture(scope="module")
def twilio_server(database_url: str, fake_twilio: FakeTwilio) -> Iterator[LiveServer]:
    """sentd configured for Twilio, reached directly (no SENTD_PUBLIC_URL)."""
    live = LiveServer(build_app(database_url, **twilio_settings(fake_twilio))).start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def public_server(database_url: str, fake_twilio: FakeTwilio) -> Iterator[LiveServer]:
    """sentd behind a proxy: Twilio knows it as SENTD_PUBLIC_URL."""
    settings = twilio_settings(fake_twilio, public_url=PUBLIC)
    live = LiveServer(build_app(database_url, **settings)).start()
    yield live
    live.stop()


# -- helpers -------------------------------------------------------------------------------------


def provider(fake: FakeTwilio, **overrides: Any) -> TwilioProvider:
    values: dict[str, Any] = {
        "api_base": fake.base_url,
        "account_sid": SID,
        "auth_token": TOKEN,
        "from_number": FROM,
        "public_url": PUBLIC,
    }
    values.update(overrides)
    return TwilioProvider(TwilioConfig(**values))


def outbound(to: str | None = None, **fields: Any) -> OutboundMessage:
    values: dict[str, Any] = {
        "id": new_id(),
        "channel": "sms",
        "to": to or number(),
        "text": "Your code is 1234",
        "template": None,
    }
    values.update(fields)
    return OutboundMessage(**values)


def submit(p: TwilioProvider, *messages_: OutboundMessage) -> list[Submission | ProviderError]:
    """Submit each message in turn on a fresh loop; the provider's errors are returned."""

    async def go() -> list[Submission | ProviderError]:
        results: list[Submission | ProviderError] = []
        try:
            for message in messages_:
                try:
                    results.append(await p.submit(message))
                except ProviderError as exc:
                    results.append(exc)
        finally:
            await p.aclose()
        return results

    return asyncio.run(go())


def refused(result: Submission | ProviderError) -> ProviderError:
    assert isinstance(result, ProviderError), result
    return result


def form_of(fake: FakeTwilio, request_index: int = -1) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in fake.requests[request_index]["form"]:
        out.setdefault(name, []).append(value)
    return out


def app_state(server: LiveServer) -> Any:
    app: Any = server.app
    return app.state


def db_of(server: LiveServer) -> Any:
    return app_state(server).db


def insert_sent(server: LiveServer, org: Org, message: OutboundMessage, sid: str) -> None:
    """A live outbound SMS as the dispatcher leaves it: SENT through Twilio with `sid`."""

    async def go() -> None:
        now = app_state(server).clock.now()
        async with db_of(server).transaction() as conn:
            contact = await find_or_create(conn, Scope(org.id, True), message.to)
            row = {
                "id": message.id,
                "customer_id": org.id,
                "livemode": True,
                "contact_id": contact["id"],
                "direction": "OUTBOUND",
                "channel": message.channel,
                "status": "SENT",
                "phone_e164": contact["phone_e164"],
                "phone_international": contact["format_international"],
                "region_code": contact["region_code"],
                "body": {"content": message.text},
                "provider": "twilio",
                "provider_message_id": sid,
                "from_number": FROM,
                "attempts": 1,
                "created_at": now,
                "updated_at": now,
            }
            await messages.insert_many(conn, [row])
            await messages.add_events(conn, [(message.id, "SENT", "Submitted", None, None, now)])

    server.run(go())


def sent_through_fake(server: LiveServer, fake: FakeTwilio, org: Org) -> tuple[uuid.UUID, str]:
    """Submit a message to the fake (its StatusCallback naming `server`) and store it as SENT."""
    message = outbound()
    [result] = submit(provider(fake, public_url=server.base_url), message)
    assert isinstance(result, Submission), result
    insert_sent(server, org, message, result.provider_message_id)
    return message.id, result.provider_message_id


def state(server: LiveServer, message_id: uuid.UUID) -> tuple[Any, list[Any]]:
    async def go() -> tuple[Any, list[Any]]:
        async with db_of(server).connection() as conn:
            return await messages.get(conn, message_id), await messages.events_of(conn, message_id)

    return server.run(go())


def by_sid(server: LiveServer, sid: str) -> Any:
    async def go() -> Any:
        async with db_of(server).connection() as conn:
            return await conn.fetchrow(
                f"SELECT {messages.COLUMNS} FROM messages "
                "WHERE provider = 'twilio' AND provider_message_id = $1",
                sid,
            )

    return server.run(go())


def contact_of(server: LiveServer, org: Org, phone: str) -> Any:
    async def go() -> Any:
        async with db_of(server).connection() as conn:
            return await contacts_repo.get_by_phone(conn, Scope(org.id, True), phone)

    return server.run(go())


def events_of(server: LiveServer, org: Org, event_type: str) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        async with db_of(server).connection() as conn:
            rows = await conn.fetch(
                "SELECT envelope FROM events WHERE customer_id = $1 AND event_type = $2 "
                "ORDER BY created_at",
                org.id,
                event_type,
            )
            return [row["envelope"] for row in rows]

    return server.run(go())


_OWN_NUMBERS = itertools.count()


def own_number(server: LiveServer, org: Org) -> str:
    """Give `org` a sending number of its own (the one inbound messages are addressed to): each
    one different, and never one that `number()` draws."""
    phone = f"+1415557{next(_OWN_NUMBERS):04d}"

    async def go() -> None:
        async with db_of(server).transaction() as conn:
            await conn.execute(
                "UPDATE customers SET sending_phone_number = $2 WHERE id = $1", org.id, phone
            )
            await sending_numbers.claim(conn, org.id, [phone])

    server.run(go())
    return phone


# -- the provider: submissions -------------------------------------------------------------------


def test_sms_is_posted_form_encoded_with_basic_auth(fake: FakeTwilio) -> None:
    message = outbound()
    [result] = submit(provider(fake), message)
    assert isinstance(result, Submission)
    sid = result.provider_message_id
    assert sid.startswith("SM") and len(sid) == 34
    request = fake.requests[-1]
    assert request["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request["auth"] == (SID, TOKEN)
    assert request["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert form_of(fake) == {
        "To": [message.to],
        "From": [FROM],
        "Body": ["Your code is 1234"],
        "StatusCallback": [f"{PUBLIC}/providers/twilio/status?message_id={message.id}"],
    }
    assert fake.messages[sid]["status"] == "queued"


def test_mms_repeats_media_url_and_may_have_no_body(fake: FakeTwilio) -> None:
    media = ["https://cdn.example.test/a.jpg", "https://cdn.example.test/b.png"]
    with_text = outbound(channel="mms", text="Look", media_urls=media)
    media_only = outbound(channel="mms", text="", media_urls=media[:1])
    results = submit(provider(fake), with_text, media_only)
    assert all(isinstance(r, Submission) for r in results), results
    first, second = form_of(fake, -2), form_of(fake, -1)
    assert first["MediaUrl"] == media and first["Body"] == ["Look"]
    assert second["MediaUrl"] == media[:1] and "Body" not in second
    assert fake.messages[results[1].provider_message_id]["media_urls"] == media[:1]  # type: ignore[union-attr]


def test_sms_never_carries_media(fake: FakeTwilio) -> None:
    submit(provider(fake), outbound(media_urls=["https://cdn.example.test/a.jpg"]))
    assert "MediaUrl" not in form_of(fake)


def test_the_sender_is_the_messages_own_then_the_default_then_the_service(
    fake: FakeTwilio,
) -> None:
    own = "+15005550007"
    submit(provider(fake, messaging_service_sid=SERVICE), outbound(from_number=own))
    assert form_of(fake)["From"] == [own] and "MessagingServiceSid" not in form_of(fake)
    submit(provider(fake, from_number=None, messaging_service_sid=SERVICE), outbound())
    assert form_of(fake)["MessagingServiceSid"] == [SERVICE] and "From" not in form_of(fake)
    assert fake.messages[list(fake.messages)[-1]]["status"] == "accepted"


def test_no_sender_at_all_fails_without_calling_twilio(fake: FakeTwilio) -> None:
    before = len(fake.requests)
    [result] = submit(provider(fake, from_number=None), outbound())
    error = refused(result)
    assert (error.transient, error.reason_code) == (False, "TWILIO_21603")
    assert len(fake.requests) == before


def test_without_public_url_there_is_no_status_callback(fake: FakeTwilio) -> None:
    [result] = submit(provider(fake, public_url=None), outbound())
    assert isinstance(result, Submission)
    assert "StatusCallback" not in form_of(fake)


@pytest.mark.parametrize("code", [21211, 21610, 21614])
def test_a_refused_number_is_a_permanent_failure(fake: FakeTwilio, code: int) -> None:
    to = number()
    fake.refuse[to] = code
    [result] = submit(provider(fake), outbound(to))
    error = refused(result)
    assert error.transient is False
    assert error.reason_code == f"TWILIO_{code}"
    assert f"error {code}" in str(error)


def test_twilios_own_validation_is_permanent(fake: FakeTwilio) -> None:
    not_e164 = outbound("4155550100")
    too_long = outbound(text="x" * 1601)
    results = submit(provider(fake), not_e164, too_long)
    assert [refused(r).reason_code for r in results] == ["TWILIO_21211", "TWILIO_21617"]
    assert not any(refused(r).transient for r in results)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_and_rate_limits_are_transient(fake: FakeTwilio, status: int) -> None:
    fake.fail_next, fake.fail_status = 1, status
    first, retried = submit(provider(fake), outbound(), outbound(attempt=2))
    error = refused(first)
    assert (error.transient, error.reason_code) == (True, "INTERNAL_003")
    assert f"Twilio answered {status}" in str(error)
    assert isinstance(retried, Submission)


def test_a_time_out_is_transient(fake: FakeTwilio) -> None:
    fake.delay_s = 1.0
    p = provider(fake)
    p.timeout_s = 0.2
    [result] = submit(p, outbound())
    error = refused(result)
    assert (error.transient, error.reason_code) == (True, "INTERNAL_003")
    assert "in time" in str(error)


def test_an_unreachable_twilio_is_transient() -> None:
    with FakeTwilio({SID: TOKEN}) as gone:
        base = gone.base_url  # a port nobody listens on once the fake is closed
    [result] = submit(TwilioProvider(TwilioConfig(base, SID, TOKEN, FROM)), outbound())
    error = refused(result)
    assert (error.transient, error.reason_code) == (True, "INTERNAL_003")
    assert "could not be reached" in str(error)


def test_wrong_credentials_are_a_permanent_auth_failure(fake: FakeTwilio) -> None:
    [wrong_token] = submit(provider(fake, auth_token="nope"), outbound())
    assert fake.requests[-1]["auth"] == (SID, "nope")
    fake.suspended.add(OTHER_SID)
    [suspended] = submit(provider(fake, account_sid=OTHER_SID, auth_token=OTHER_TOKEN), outbound())
    for result in (wrong_token, suspended):
        error = refused(result)
        assert (error.transient, error.reason_code) == (False, "TWILIO_AUTH")
    assert "answered 401 (error 20003)" in str(wrong_token)
    assert "answered 403 (error 10001)" in str(suspended)


def test_one_client_per_provider_reused_and_closed(fake: FakeTwilio) -> None:
    p = provider(fake)

    async def go() -> tuple[bool, bool]:
        await p.submit(outbound())
        session = p._http._session  # the outbound client's connection pool
        await p.submit(outbound())
        same = p._http._session is session
        await p.aclose()
        return same, session is not None and session.closed and p._http._session is None

    assert asyncio.run(go()) == (True, True)


def test_from_settings_and_the_registry(fake: FakeTwilio, database_url: str) -> None:
    assert twilio.from_settings(make_settings(database_url)) is None
    assert twilio.from_settings(make_settings(database_url, twilio_account_sid=SID)) is None
    settings: Settings = make_settings(
        database_url, **twilio_settings(fake, public_url=PUBLIC + "/")
    )
    built = twilio.from_settings(settings)
    assert isinstance(built, TwilioProvider)
    assert built.config.public_url == PUBLIC
    assert built.config.messages_url == f"{fake.base_url}/2010-04-01/Accounts/{SID}/Messages.json"
    providers: Providers = build_providers(settings)
    assert providers.for_channel("sms", livemode=True).name == "twilio"  # type: ignore[union-attr]
    assert providers.for_channel("mms", livemode=True).name == "twilio"  # type: ignore[union-attr]
    assert providers.for_channel("sms", livemode=False).name == "simulator"  # type: ignore[union-attr]
    assert providers.for_channel("whatsapp", livemode=True) is not built


# -- status callbacks ----------------------------------------------------------------------------


def test_signed_delivered_callback_moves_the_message(
    twilio_server: LiveServer, fake: FakeTwilio
) -> None:
    org = make_org(twilio_server)
    message_id, sid = sent_through_fake(twilio_server, fake, org)
    callback = fake.messages[sid]["status_callback"]
    assert callback == f"{twilio_server.base_url}{STATUS}?message_id={message_id}"
    assert assert_ok(fake.send_status(sid, "sent")) == {"recorded": False}  # already SENT
    assert assert_ok(fake.send_status(sid, "delivered")) == {"recorded": True}
    row, events = state(twilio_server, message_id)
    assert row.status == "DELIVERED"
    assert [e["status"] for e in events] == ["SENT", "DELIVERED"]
    [event] = events_of(twilio_server, org, "message.delivered")
    assert event["payload"]["message_id"] == str(message_id)


def test_read_after_delivered(twilio_server: LiveServer, fake: FakeTwilio) -> None:
    org = make_org(twilio_server)
    message_id, sid = sent_through_fake(twilio_server, fake, org)
    for status in ("delivered", "read"):
        assert assert_ok(fake.send_status(sid, status)) == {"recorded": True}
    assert state(twilio_server, message_id)[0].status == "READ"


@pytest.mark.parametrize(
    ("status", "code", "reason_code"),
    [("undelivered", 30003, "TWILIO_30003"), ("failed", 30007, "TWILIO_30007"),
     ("failed", None, "TWILIO_FAILED")],
)  # fmt: skip
def test_undelivered_and_failed_fail_the_message(
    twilio_server: LiveServer,
    fake: FakeTwilio,
    status: str,
    code: int | None,
    reason_code: str,
) -> None:
    org = make_org(twilio_server)
    message_id, sid = sent_through_fake(twilio_server, fake, org)
    assert assert_ok(fake.send_status(sid, status, error_code=code)) == {"recorded": True}
    row, events = state(twilio_server, message_id)
    assert (row.status, row.reason_code) == ("FAILED", reason_code)
    assert status in row.reason
    assert events[-1]["reason_code"] == reason_code
    [event] = events_of(twilio_server, org, "message.failed")
    assert event["payload"]["reason_code"] == reason_code


@pytest.mark.parametrize("status", ["queued", "accepted", "sending", "scheduled"])
def test_intermediate_statuses_are_acknowledged_and_ignored(
    twilio_server: LiveServer, fake: FakeTwilio, status: str
) -> None:
    org = make_org(twilio_server)
    message_id, sid = sent_through_fake(twilio_server, fake, org)
    assert assert_ok(fake.send_status(sid, status)) == {"recorded": False}
    row, events = state(twilio_server, message_id)
    assert row.status == "SENT" and len(events) == 1


def test_late_and_repeated_callbacks_change_nothing(
    twilio_server: LiveServer, fake: FakeTwilio
) -> None:
    org = make_org(twilio_server)
    message_id, sid = sent_through_fake(twilio_server, fake, org)
    answers = [
        assert_ok(fake.send_status(sid, status))["recorded"]
        for status in ("delivered", "delivered", "sent", "undelivered", "delivered")
    ]
    assert answers == [True, False, False, False, False]
    row, events = state(twilio_server, message_id)
    assert row.status == "DELIVERED" and row.reason_code is None
    assert [e["status"] for e in events] == ["SENT", "DELIVERED"]
    assert len(events_of(twilio_server, org, "message.delivered")) == 1
    assert events_of(twilio_server, org, "message.failed") == []


def test_a_callback_for_an_unknown_sid_is_acknowledged(
    twilio_server: LiveServer, fake: FakeTwilio, caplog: pytest.LogCaptureFixture
) -> None:
    org = make_org(twilio_server)
    message_id, sid = sent_through_fake(twilio_server, fake, org)
    # Twilio accepted the message twice (the duplicate window): the second SID is unknown.
    [again] = submit(provider(fake, public_url=twilio_server.base_url), outbound(id=message_id))
    assert isinstance(again, Submission)
    second = again.provider_message_id
    with caplog.at_level("WARNING", logger="sentd.providers.twilio"):
        assert assert_ok(fake.send_status(second, "delivered")) == {"recorded": False}
    assert state(twilio_server, message_id)[0].status == "SENT"
    assert any(second in r.message and sid in r.message for r in caplog.records)


def test_a_wrong_signature_is_refused(twilio_server: LiveServer, fake: FakeTwilio) -> None:
    org = make_org(twilio_server)
    message_id, sid = sent_through_fake(twilio_server, fake, org)
    bad = sign(OTHER_TOKEN, fake.messages[sid]["status_callback"], [("MessageSid", sid)])
    for signature in (bad, "not-a-signature", ""):
        error = assert_error(
            fake.send_status(sid, "delivered", signature=signature), "PROVIDER_001"
        )
        assert "x-twilio-signature" in error["details"]
    assert state(twilio_server, message_id)[0].status == "SENT"


def test_tampered_parameters_are_refused(twilio_server: LiveServer, fake: FakeTwilio) -> None:
    org = make_org(twilio_server)
    message_id, sid = sent_through_fake(twilio_server, fake, org)
    url = twilio_server.base_url + STATUS
    signed = [("MessageSid", sid), ("MessageStatus", "sent")]
    headers = {"x-twilio-signature": sign(TOKEN, url, signed)}
    tampered = {"MessageSid": sid, "MessageStatus": "undelivered"}
    assert_error(httpx.post(url, data=tampered, headers=headers), "PROVIDER_001")
    untouched = {"MessageSid": sid, "MessageStatus": "sent"}
    assert assert_ok(httpx.post(url, data=untouched, headers=headers)) == {"recorded": False}
    assert state(twilio_server, message_id)[0].status == "SENT"


def test_signed_for_another_url_is_refused(twilio_server: LiveServer, fake: FakeTwilio) -> None:
    org = make_org(twilio_server)
    message_id, sid = sent_through_fake(twilio_server, fake, org)
    # Signed for the public URL, but this server has no SENTD_PUBLIC_URL: it checks its own.
    fake.route_callbacks_to = twilio_server.base_url
    response = fake.send_status(sid, "delivered", url=f"{PUBLIC}{STATUS}?message_id={message_id}")
    assert_error(response, "PROVIDER_001")
    assert state(twilio_server, message_id)[0].status == "SENT"


def test_behind_a_proxy_the_public_url_is_what_is_signed(
    public_server: LiveServer, fake: FakeTwilio
) -> None:
    org = make_org(public_server)
    message_id, sid = sent_through_fake(public_server, fake, org)
    fake.route_callbacks_to = public_server.base_url
    signed_for_public = f"{PUBLIC}{STATUS}?message_id={message_id}"
    assert assert_ok(fake.send_status(sid, "sent", url=signed_for_public)) == {"recorded": False}
    # Twilio's validators accept the URL with the scheme's default port written out, too.
    with_port = f"https://sentd.example.test:443{STATUS}?message_id={message_id}"
    assert assert_ok(fake.send_status(sid, "delivered", url=with_port)) == {"recorded": True}
    assert state(public_server, message_id)[0].status == "DELIVERED"
    # The local URL is not the one Twilio was given.
    fake.route_callbacks_to = None
    local = f"{public_server.base_url}{STATUS}?message_id={message_id}"
    assert_error(fake.send_status(sid, "read", url=local), "PROVIDER_001")


def test_without_an_auth_token_every_callback_is_refused(server: LiveServer) -> None:
    url = server.base_url + STATUS
    params = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"}
    response = httpx.post(url, data=params, headers={"x-twilio-signature": sign(TOKEN, url, [])})
    error = assert_error(response, "PROVIDER_001")
    assert "SENTD_TWILIO_AUTH_TOKEN" in error["details"]["x-twilio-signature"][0]


def test_a_callback_without_its_parameters_is_a_validation_error(
    twilio_server: LiveServer,
) -> None:
    url = twilio_server.base_url + STATUS
    params = [("MessageStatus", "delivered")]
    headers = {"x-twilio-signature": sign(TOKEN, url, params)}
    error = assert_error(httpx.post(url, data=dict(params), headers=headers), "VALIDATION_001")
    assert "MessageSid" in error["details"]


# -- inbound messages ----------------------------------------------------------------------------


def inbound_url(server: LiveServer) -> str:
    return server.base_url + INBOUND


def assert_twiml(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text.endswith("<Response/>")


def test_an_inbound_sms_is_stored_with_a_new_contact(
    twilio_server: LiveServer, fake: FakeTwilio
) -> None:
    org = make_org(twilio_server)
    ours, theirs = own_number(twilio_server, org), number()
    assert contact_of(twilio_server, org, theirs) is None
    sid, response = fake.send_inbound(
        inbound_url(twilio_server), from_number=theirs, to_number=ours, body="Hello there"
    )
    assert_twiml(response)
    row = by_sid(twilio_server, sid)
    contact = contact_of(twilio_server, org, theirs)
    assert contact is not None and contact["opt_out"] is False
    assert (row["direction"], row["status"], row["channel"]) == ("INBOUND", "RECEIVED", "sms")
    assert (row["customer_id"], row["livemode"]) == (org.id, True)
    assert row["contact_id"] == contact["id"]
    assert row["body"] == {"content": "Hello there"}
    assert row["from_number"] == ours
    [event] = events_of(twilio_server, org, "message.received")
    payload = event["payload"]
    assert (payload["inbound_number"], payload["outbound_number"]) == (theirs, ours)
    assert (payload["text"], payload["message_id"]) == ("Hello there", str(row["id"]))


def test_stop_opts_the_contact_out(twilio_server: LiveServer, fake: FakeTwilio) -> None:
    org = make_org(twilio_server)
    ours, theirs = own_number(twilio_server, org), number()
    url = inbound_url(twilio_server)
    assert_twiml(fake.send_inbound(url, from_number=theirs, to_number=ours, body="hi")[1])
    assert contact_of(twilio_server, org, theirs)["opt_out"] is False
    assert_twiml(fake.send_inbound(url, from_number=theirs, to_number=ours, body=" Stop ")[1])
    assert contact_of(twilio_server, org, theirs)["opt_out"] is True
    [event] = events_of(twilio_server, org, "contact.opt_out")
    assert event["payload"]["source"] == "INBOUND_KEYWORD"


def test_a_number_has_one_owner_so_a_stop_reaches_only_it(
    twilio_server: LiveServer, fake: FakeTwilio
) -> None:
    """The older customer used to win inbound messages to a number two customers had set; now
    the second claim is refused and the STOP opts out the claimer's contact only."""
    older, newer = make_org(twilio_server), make_org(twilio_server)
    with httpx.Client(base_url=twilio_server.base_url, timeout=30) as http:
        profiles = []
        for org in (older, newer):
            body = {"name": "Shop", "billing_model": "organization"}
            created = http.post("/v3/profiles", json=body, headers={"x-api-key": org.live_key})
            profiles.append(uuid.UUID(assert_ok(created, 201)["id"]))
        ours, theirs = f"+1415556{next(_OWN_NUMBERS):04d}", number()

        def claim(org: Org, profile_id: uuid.UUID) -> httpx.Response:
            return http.patch(
                f"/v3/profiles/{profile_id}",
                json={"sending_phone_number": ours},
                headers={"x-api-key": org.live_key},
            )

        assert_ok(claim(newer, profiles[1]))
        error = assert_error(claim(older, profiles[0]), "RESOURCE_007")
        assert list(error["details"]) == ["sending_phone_number"]
    url = inbound_url(twilio_server)
    sid, response = fake.send_inbound(url, from_number=theirs, to_number=ours, body="STOP")
    assert_twiml(response)
    assert by_sid(twilio_server, sid)["customer_id"] == profiles[1]

    async def contacts_of(customer_id: uuid.UUID) -> Any:
        async with db_of(twilio_server).connection() as conn:
            return await contacts_repo.get_by_phone(conn, Scope(customer_id, True), theirs)

    assert twilio_server.run(contacts_of(profiles[1]))["opt_out"] is True
    assert twilio_server.run(contacts_of(profiles[0])) is None


def test_an_inbound_mms_carries_its_media(twilio_server: LiveServer, fake: FakeTwilio) -> None:
    org = make_org(twilio_server)
    ours, theirs = own_number(twilio_server, org), number()
    media_url = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages/MM1/Media/ME1"
    sid, response = fake.send_inbound(
        inbound_url(twilio_server),
        from_number=theirs,
        to_number=ours,
        body="",
        media=[(media_url, "image/jpeg")],
    )
    assert_twiml(response)
    row = by_sid(twilio_server, sid)
    assert row["channel"] == "mms" and row["body"] == {"content": None}
    [event] = events_of(twilio_server, org, "message.received")
    assert event["payload"]["media"] == [
        {"url": media_url, "mime_type": "image/jpeg", "size_bytes": None, "hash_sha256": None}
    ]


def test_a_repeated_inbound_is_stored_once(twilio_server: LiveServer, fake: FakeTwilio) -> None:
    org = make_org(twilio_server)
    ours, theirs = own_number(twilio_server, org), number()
    url = inbound_url(twilio_server)
    sid, first = fake.send_inbound(url, from_number=theirs, to_number=ours, body="once")
    _, again = fake.send_inbound(url, from_number=theirs, to_number=ours, body="once", sid=sid)
    assert_twiml(first)
    assert_twiml(again)
    assert len(events_of(twilio_server, org, "message.received")) == 1


def test_a_wrongly_signed_inbound_is_refused(twilio_server: LiveServer, fake: FakeTwilio) -> None:
    org = make_org(twilio_server)
    ours, theirs = own_number(twilio_server, org), number()
    sid, response = fake.send_inbound(
        inbound_url(twilio_server),
        from_number=theirs,
        to_number=ours,
        body="STOP",
        signature=sign(TOKEN, inbound_url(twilio_server), [("Body", "STOP")]),
    )
    assert_error(response, "PROVIDER_001")
    assert by_sid(twilio_server, sid) is None
    assert contact_of(twilio_server, org, theirs) is None


def test_inbound_to_a_number_nobody_owns_is_acknowledged_and_dropped(
    twilio_server: LiveServer, fake: FakeTwilio
) -> None:
    make_org(twilio_server)
    make_org(twilio_server)  # more than one organization: no single-tenant fallback
    sid, response = fake.send_inbound(
        inbound_url(twilio_server), from_number=number(), to_number=number(), body="hello?"
    )
    assert_twiml(response)
    assert by_sid(twilio_server, sid) is None


def test_inbound_from_a_short_code_is_acknowledged_and_dropped(
    twilio_server: LiveServer, fake: FakeTwilio
) -> None:
    org = make_org(twilio_server)
    sid, response = fake.send_inbound(
        inbound_url(twilio_server),
        from_number="898287",
        to_number=own_number(twilio_server, org),
        body="Your carrier says hi",
    )
    assert_twiml(response)
    assert by_sid(twilio_server, sid) is None


def test_inbound_without_to_is_a_validation_error(twilio_server: LiveServer) -> None:
    url = inbound_url(twilio_server)
    params = [("MessageSid", "SM" + "1" * 32), ("From", number()), ("Body", "hi")]
    headers = {"x-twilio-signature": sign(TOKEN, url, params)}
    error = assert_error(httpx.post(url, data=dict(params), headers=headers), "VALIDATION_001")
    assert set(error["details"]) == {"To"}


# -- end to end ----------------------------------------------------------------------------------


@pytest.fixture
def e2e_server(database_url: str, fake: FakeTwilio) -> Iterator[LiveServer]:
    """sentd with its workers, sending live SMS through the fake; Twilio calls it back at its
    public URL, which (as a reverse proxy would) the fake routes to the live server."""
    settings = twilio_settings(fake, public_url=PUBLIC, dispatch_retry_base_s=0.1)
    live = LiveServer(build_app(database_url, run_workers=True, **settings)).start()
    fake.route_callbacks_to = live.base_url
    try:
        yield live
    finally:
        live.stop()


def wait_for_status(
    client: httpx.Client, key: str, message_id: str, status: str, timeout: float = 15.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        data: dict[str, Any] = assert_ok(
            client.get(f"/v3/messages/{message_id}", headers={"x-api-key": key})
        )
        if data["status"] == status:
            return data
        assert time.monotonic() < deadline, f"still {data['status']}, never {status}"
        time.sleep(0.05)


def test_a_live_sms_goes_out_through_twilio_and_comes_back_delivered(
    e2e_server: LiveServer, fake: FakeTwilio
) -> None:
    org = make_org(e2e_server)
    to = number()
    with httpx.Client(base_url=e2e_server.base_url, timeout=30) as client:
        accepted = assert_ok(
            client.post(
                "/v3/messages",
                json={"to": [to], "channel": ["sms"], "text": "Your table is ready"},
                headers={"x-api-key": org.live_key},
            ),
            202,
        )
        [recipient] = accepted["recipients"]
        message_id = recipient["message_id"]
        sent = fake.wait_for_message(to)
        assert (sent["from"], sent["body"]) == (FROM, "Your table is ready")
        assert sent["status_callback"] == f"{PUBLIC}{STATUS}?message_id={message_id}"
        wait_for_status(client, org.live_key, message_id, "SENT")
        assert assert_ok(fake.send_status(sent["sid"], "sent")) == {"recorded": False}
        assert assert_ok(fake.send_status(sent["sid"], "delivered")) == {"recorded": True}
        data = wait_for_status(client, org.live_key, message_id, "DELIVERED")
    assert data["id"] == message_id
