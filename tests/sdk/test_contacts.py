"""`client.contacts.*` and `client.numbers.lookup` of the official SDK, default and strict."""

from __future__ import annotations

import pytest
import sent_dm

from tests.factories import make_org
from tests.live_server import LiveServer
from tests.sdk.conftest import SdkFactory


@pytest.mark.parametrize("strict", [False, True])
def test_contacts_lifecycle(server: LiveServer, sdk: SdkFactory, strict: bool) -> None:
    org = make_org(server)
    client = sdk(org.live_key, strict=strict)
    created = client.contacts.create(phone_number="+14155550100").data
    assert created is not None and created.id is not None
    assert created.format_national == "(415) 555-0100"
    assert created.available_channels == "sms,whatsapp"

    fetched = client.contacts.retrieve(created.id).data
    assert fetched is not None and fetched.format_rfc == "tel:+1-415-555-0100"

    updated = client.contacts.update(created.id, default_channel="whatsapp", opt_out=True).data
    assert updated is not None and updated.default_channel == "whatsapp" and updated.opt_out

    summary = client.contacts.retrieve_message_summary(created.id).data
    assert summary is not None and summary.message_count == 0

    with pytest.warns(DeprecationWarning):
        client.contacts.delete(created.id)
    with pytest.raises(sent_dm.NotFoundError) as raised:
        client.contacts.retrieve(created.id)
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["error"]["code"] == "RESOURCE_001"


@pytest.mark.parametrize("strict", [False, True])
def test_auto_pagination_visits_each_contact_once(
    server: LiveServer, sdk: SdkFactory, strict: bool
) -> None:
    org = make_org(server)
    client = sdk(org.live_key, strict=strict)
    phones = [f"+1415555{n:04d}" for n in range(100, 105)]
    for phone in phones:
        client.contacts.create(phone_number=phone)
    seen = [c.format_e164 for c in client.contacts.list(page_size=2)]
    assert seen == phones
    assert [c.format_e164 for c in client.contacts.list()] == phones  # neither page nor size
    filtered = [c.format_e164 for c in client.contacts.list(page_size=1, phone="+1415555010")]
    assert filtered == phones


@pytest.mark.parametrize("strict", [False, True])
def test_numbers_lookup(server: LiveServer, sdk: SdkFactory, strict: bool) -> None:
    org = make_org(server)
    data = sdk(org.live_key, strict=strict).numbers.lookup("+14155550100").data
    assert data is not None
    assert data.is_valid is True and data.line_type == "mobile" and data.country_code == "1"


def test_duplicate_contact_is_a_conflict(server: LiveServer, sdk: SdkFactory) -> None:
    org = make_org(server)
    client = sdk(org.live_key)
    client.contacts.create(phone_number="+14155550100")
    with pytest.raises(sent_dm.ConflictError) as raised:
        client.contacts.create(phone_number="+14155550100")
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["error"]["code"] == "RESOURCE_007"
    assert raised.value.response.request.headers["x-stainless-retry-count"] == "0"
