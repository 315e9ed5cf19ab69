"""What the SDK's retry logic relies on: an idempotency key names one operation, and a send that
can never fit the messages-per-minute window is refused once, without an invitation to retry."""

from __future__ import annotations

import time
import uuid

import pytest
import sent_dm

from tests.factories import customer_counts, make_org, set_limits
from tests.live_server import LiveServer
from tests.sdk.conftest import SdkFactory


def numbers(count: int) -> list[str]:
    return [f"+1415555{n:04d}" for n in range(count)]


def test_a_key_used_for_another_operation_is_refused(server: LiveServer, sdk: SdkFactory) -> None:
    org = make_org(server)
    client = sdk(org.test_key)
    key = f"sdk-scope-{uuid.uuid4().hex}"
    contact = client.contacts.create(phone_number="+14155550123", idempotency_key=key)
    assert contact.data is not None
    before = customer_counts(server, org.id)
    with pytest.raises(sent_dm.UnprocessableEntityError) as raised:
        client.messages.send(to=["+14155550124"], text="Hi", channel=["sms"], idempotency_key=key)
    response = raised.value.response
    assert isinstance(raised.value.body, dict)
    error = raised.value.body["error"]
    assert error["code"] == "IDEMPOTENCY_001"
    assert error["details"] == {
        "Idempotency-Key": [
            "This key was first used for POST /v3/contacts; use a new key for POST /v3/messages"
        ]
    }
    assert response.headers["x-should-retry"] == "false"
    assert "idempotent-replayed" not in response.headers
    assert response.request.headers.get("x-stainless-retry-count") == "0"
    assert customer_counts(server, org.id) == before  # no message, no charge
    # The key still replays its own operation.
    again = client.contacts.create(phone_number="+14155550123", idempotency_key=key)
    assert again.data is not None and again.data.id == contact.data.id


def test_a_key_names_the_resource_too(server: LiveServer, sdk: SdkFactory) -> None:
    org = make_org(server)
    client = sdk(org.test_key)
    first = client.contacts.create(phone_number="+14155550125").data
    second = client.contacts.create(phone_number="+14155550126").data
    assert first is not None and second is not None and first.id and second.id
    key = f"sdk-scope-{uuid.uuid4().hex}"
    client.contacts.update(first.id, opt_out=True, idempotency_key=key)
    with pytest.raises(sent_dm.UnprocessableEntityError) as raised:
        client.contacts.update(second.id, opt_out=True, idempotency_key=key)
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["error"]["code"] == "IDEMPOTENCY_001"
    assert client.contacts.retrieve(second.id).data.opt_out is False  # type: ignore[union-attr]


def test_a_send_larger_than_the_window_is_refused_at_once(
    server: LiveServer, sdk: SdkFactory
) -> None:
    org = make_org(server)
    set_limits(server, org, messages_per_minute=60)
    client = sdk(org.test_key)  # the SDK's default: two retries
    before = customer_counts(server, org.id)
    started = time.monotonic()
    with pytest.raises(sent_dm.RateLimitError) as raised:
        client.messages.send(to=numbers(100), text="Hi", channel=["sms"])
    elapsed = time.monotonic() - started
    response = raised.value.response
    assert response.request.headers.get("x-stainless-retry-count") == "0"  # not retried
    assert elapsed < 5
    assert response.status_code == 429
    assert response.headers["x-should-retry"] == "false"
    assert "retry-after" not in response.headers
    assert response.headers["x-ratelimit-limit"] == "60"
    assert isinstance(raised.value.body, dict)
    error = raised.value.body["error"]
    assert error["code"] == "BUSINESS_002"
    (detail,) = error["details"]["messages_per_minute"]
    assert "100 messages" in detail and "60 messages a minute" in detail
    assert customer_counts(server, org.id) == before  # nothing accepted, nothing charged
    # What fits the window still goes through, and is counted.
    sent = client.messages.send(to=numbers(60), text="Hi", channel=["sms"])
    assert sent.data is not None and sent.data.recipients is not None
    assert len(sent.data.recipients) == 60


def test_a_send_that_fits_later_is_told_when(server: LiveServer, sdk: SdkFactory) -> None:
    org = make_org(server)
    set_limits(server, org, messages_per_minute=10)
    client = sdk(org.test_key, max_retries=0)
    client.messages.send(to=numbers(8), text="Hi", channel=["sms"])
    with pytest.raises(sent_dm.RateLimitError) as raised:
        client.messages.send(to=numbers(5), text="Hi", channel=["sms"])
    response = raised.value.response
    assert response.headers["x-should-retry"] == "true"
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["x-ratelimit-limit"] == "10"
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert time.time() < int(response.headers["x-ratelimit-reset"]) <= time.time() + 61
