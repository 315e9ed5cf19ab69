"""`client.messages.*` and `client.conversations.*` of the official SDK, default and strict."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sent_dm

from tests.conftest import build_app
from tests.factories import make_org
from tests.live_server import LiveServer


@pytest.fixture(scope="module")
def live(database_url: str) -> Iterator[LiveServer]:
    server = LiveServer(build_app(database_url, run_workers=True, simulator_latency_ms=50)).start()
    yield server
    server.stop()


@pytest.mark.parametrize("strict", [False, True])
def test_send_and_follow(live: LiveServer, strict: bool) -> None:
    org = make_org(live)
    with sent_dm.Sent(
        base_url=live.base_url, api_key=org.test_key, _strict_response_validation=strict
    ) as client:
        sent = client.messages.send(to=["+14155550100", "+14155550101"], text="Hi", channel=["sms"])
        assert sent.data is not None and sent.data.status == "QUEUED"
        assert sent.data.recipients is not None and len(sent.data.recipients) == 2
        message_id = sent.data.recipients[0].message_id
        assert message_id is not None
        deadline = time.monotonic() + 15
        while True:
            status = client.messages.retrieve_status(message_id).data
            assert status is not None
            if status.status == "DELIVERED":
                break
            assert time.monotonic() < deadline, status.status
            time.sleep(0.05)
        assert status.events is not None and [e.status for e in status.events][-1] == "DELIVERED"
        assert status.message_body is not None and status.message_body.content == "Hi"
        activities = client.messages.retrieve_activities(message_id).data
        assert activities is not None and activities.activities is not None
        assert activities.activities[0].status == "DELIVERED"
        listed = [m.id for m in client.conversations.list(page_size=1)]
        assert len(listed) == 2 and message_id in listed
        assert status.contact_id is not None
        convo = [m.id for m in client.conversations.list_messages(status.contact_id, page_size=1)]
        assert convo == [message_id]


def test_refusals_map_to_sdk_errors(live: LiveServer) -> None:
    org = make_org(live, test_micros=0)
    with sent_dm.Sent(base_url=live.base_url, api_key=org.test_key) as client:
        with pytest.raises(sent_dm.UnprocessableEntityError) as raised:
            client.messages.send(to=["+14155550100"], text="Hi")
        assert isinstance(raised.value.body, dict)
        assert raised.value.body["error"]["code"] == "BUSINESS_003"
        with pytest.raises(sent_dm.BadRequestError) as bad:
            client.messages.send(to=["not a number"], text="Hi")
        assert isinstance(bad.value.body, dict)
        assert bad.value.body["error"]["details"] == {
            "to[0]": ["Use E.164: '+', the country code and the number, digits only"]
        }
        with pytest.raises(sent_dm.NotFoundError):
            client.messages.retrieve_status("8ba7b830-9dad-11d1-80b4-00c04fd430c8")
