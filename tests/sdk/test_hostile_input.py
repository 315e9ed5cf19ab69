"""What the official SDK sees when it sends what sentd refuses at the edge: a body over the limit
is one 413 (no retry), a NUL character is a 400 naming the field; nothing is written."""

from __future__ import annotations

import httpx
import pytest
import sent_dm

from tests.factories import customer_counts, make_org
from tests.live_server import LiveServer
from tests.sdk.conftest import SdkFactory


def test_an_oversize_send_is_refused_once(server: LiveServer, sdk: SdkFactory) -> None:
    org = make_org(server)
    attempts: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [attempts.append]})
    client = sdk(org.live_key, http_client=http)
    before = customer_counts(server, org.id)
    padding = ["p" * 8000] * 140  # about 1.1 MB: over the default 1 MiB limit
    with pytest.raises(sent_dm.APIStatusError) as raised:
        client.messages.send(to=["+14155550100"], text="hi", extra_body={"padding": padding})
    assert raised.value.status_code == 413
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["error"]["code"] == "REQUEST_001"
    assert len(attempts) == 1  # x-should-retry: false
    assert customer_counts(server, org.id) == before
    http.close()


def test_a_nul_character_is_a_bad_request_naming_the_field(
    server: LiveServer, sdk: SdkFactory
) -> None:
    org = make_org(server)
    client = sdk(org.live_key)
    before = customer_counts(server, org.id)
    with pytest.raises(sent_dm.BadRequestError) as raised:
        client.contacts.create(phone_number="+1415\u00005550100")
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["error"]["code"] == "VALIDATION_001"
    assert list(raised.value.body["error"]["details"]) == ["phone_number"]
    assert customer_counts(server, org.id) == before
