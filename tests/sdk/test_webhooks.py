"""All ten `client.webhooks.*` methods of the official SDK, default and strict."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sent_dm

from tests.conftest import build_app
from tests.factories import make_org
from tests.live_server import LiveServer
from tests.webhook_receiver import WebhookReceiver


@pytest.fixture(scope="module")
def worker_server(database_url: str) -> Iterator[LiveServer]:
    live = LiveServer(build_app(database_url, run_workers=True, webhook_retry_base_s=0.1)).start()
    yield live
    live.stop()


@pytest.mark.parametrize("strict", [False, True])
def test_every_webhook_method(worker_server: LiveServer, strict: bool) -> None:
    org = make_org(worker_server)
    with (
        WebhookReceiver() as receiver,
        sent_dm.Sent(
            base_url=worker_server.base_url,
            api_key=org.live_key,
            _strict_response_validation=strict,
        ) as client,
    ):
        created = client.webhooks.create(
            display_name="Contacts",
            endpoint_url=receiver.url,
            event_types=["contact"],
            retry_count=2,
            timeout_seconds=10,
        ).data
        assert created is not None and created.id is not None
        assert created.signing_secret is not None and created.signing_secret.startswith("whsec_")
        receiver.secret = created.signing_secret

        fetched = client.webhooks.retrieve(created.id).data
        assert fetched is not None and fetched.display_name == "Contacts"

        updated = client.webhooks.update(
            created.id,
            display_name="Contacts v2",
            endpoint_url=receiver.url,
            event_types=["contact", "messages"],
            event_filters={"message": ["delivered"]},
        ).data
        assert updated is not None and updated.event_types == ["contact", "message"]
        assert updated.event_filters == {"message": ["delivered"]}

        types = client.webhooks.list_event_types().data
        assert types is not None and types.event_types is not None
        assert {t.name for t in types.event_types} == {"message", "templates", "contact", "call"}

        rotated = client.webhooks.rotate_secret(created.id).data
        assert rotated is not None and rotated.signing_secret is not None
        receiver.secret = rotated.signing_secret

        tested = client.webhooks.test(created.id, event_type="contact.opt_out").data
        assert tested is not None and tested.success is True

        contact = client.contacts.create(phone_number="+14155550100").data
        assert contact is not None and contact.id is not None
        client.contacts.update(contact.id, opt_out=True)
        client.contacts.update(contact.id, opt_out=False)
        receiver.wait_for(3)  # the test, then the two events
        assert all(d.verified for d in receiver.deliveries)

        deadline = time.monotonic() + 10
        while True:
            logged = list(client.webhooks.list_events(created.id, page_size=1))
            if all(e.delivery_status == "delivered" for e in logged) and len(logged) == 2:
                break
            assert time.monotonic() < deadline, logged
            time.sleep(0.1)
        assert [e.event_type for e in logged] == ["contact.opt_in", "contact.opt_out"]
        assert logged[0].event_data is not None

        toggled = client.webhooks.toggle_status(created.id, is_active=False).data
        assert toggled is not None and toggled.is_active is False

        second = client.webhooks.create(
            display_name="Other", endpoint_url=receiver.url, event_types=["templates"]
        ).data
        assert second is not None
        listed = [w.id for w in client.webhooks.list(page_size=1)]
        assert listed == [created.id, second.id]
        assert [w.id for w in client.webhooks.list(is_active=True)] == [second.id]

        client.webhooks.delete(created.id)
        with pytest.raises(sent_dm.NotFoundError) as raised:
            client.webhooks.retrieve(created.id)
        assert isinstance(raised.value.body, dict)
        assert raised.value.body["error"]["code"] == "RESOURCE_008"
