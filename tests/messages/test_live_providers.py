"""Live mode is never silently simulated: with no live provider for a channel a live send is
refused with 422 `PROVIDER_003` before anything is written or charged; the simulator sends live
traffic only when a setting names it; live numbers have no magic suffix. Over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sentd.config import Settings
from tests.conftest import build_app
from tests.contract import assert_error, assert_ok
from tests.factories import balance_of, customer_counts, make_org
from tests.live_server import LiveServer
from tests.messages.test_send import SMS_PRICE, wait_status

CHANNELS = ("sms", "mms", "whatsapp", "rcs")


def unconfigured(**overrides: str) -> dict[str, str]:
    """Provider settings as they are out of the box (no live provider), with `overrides`."""
    return {f"{channel}_provider": "none" for channel in CHANNELS} | overrides


@pytest.fixture(scope="module")
def bare(database_url: str) -> Iterator[LiveServer]:
    """A server as configured out of the box: no live provider for any channel."""
    server = LiveServer(build_app(database_url, **unconfigured())).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def whatsapp_only(database_url: str) -> Iterator[LiveServer]:
    """Live WhatsApp through the simulator, set explicitly; no live SMS, MMS or RCS provider."""
    server = LiveServer(
        build_app(
            database_url,
            run_workers=True,
            simulator_latency_ms=50,
            **unconfigured(whatsapp_provider="simulator"),
        )
    ).start()
    yield server
    server.stop()


def send(server: LiveServer, key: str, **body: Any) -> httpx.Response:
    body.setdefault("text", "Hello from sentd")
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        return http.post("/v3/messages", json=body, headers={"x-api-key": key})


def test_no_live_provider_is_the_default() -> None:
    for channel in CHANNELS:
        assert Settings.model_fields[f"{channel}_provider"].default == "none"


@pytest.mark.parametrize(
    ("body", "setting"),
    [
        ({"to": ["+14155550100"], "channel": ["sms"]}, "SENTD_SMS_PROVIDER"),
        ({"to": ["+14155550100"], "channel": ["whatsapp"]}, "SENTD_WHATSAPP_PROVIDER"),
        (
            {"to": ["+14155550100"], "channel": ["mms"], "media_urls": ["https://x.test/a.png"]},
            "SENTD_MMS_PROVIDER",
        ),
        ({"to": ["+14155550100"], "channel": ["rcs"]}, "SENTD_RCS_PROVIDER"),
        ({"to": ["+14155550100", "+14155550101"]}, "SENTD_SMS_PROVIDER"),  # auto-detection
        # The simulator's "fails" number is not special in live mode either: refused the same.
        ({"to": ["+14155550001"]}, "SENTD_SMS_PROVIDER"),
    ],
)
def test_live_send_without_provider_is_refused_and_changes_nothing(
    bare: LiveServer, body: dict[str, Any], setting: str
) -> None:
    org = make_org(bare)
    before = customer_counts(bare, org.id)
    live_balance = balance_of(bare, org.id, livemode=True)
    error = assert_error(send(bare, org.live_key, **body), "PROVIDER_003")
    assert list(error["details"]) == ["channel"]
    [reason] = error["details"]["channel"]
    assert setting in reason and body.get("channel", ["sms"])[0] in reason
    assert customer_counts(bare, org.id) == before  # no message, contact, event, ledger entry
    assert balance_of(bare, org.id, livemode=True) == live_balance


def test_test_mode_keeps_the_simulator(bare: LiveServer) -> None:
    org = make_org(bare)
    before = balance_of(bare, org.id, livemode=False)
    data = assert_ok(send(bare, org.test_key, to=["+14155550100"]), 202)
    assert [r["channel"] for r in data["recipients"]] == ["sms"]
    assert balance_of(bare, org.id, livemode=False) == before - SMS_PRICE


def test_the_refusal_is_documented_at_errors(bare: LiveServer) -> None:
    with httpx.Client(base_url=bare.base_url, timeout=30) as http:
        page = http.get("/errors/PROVIDER_003")
    assert page.status_code == 200
    assert "SENTD_SMS_PROVIDER" in page.text and "simulator" in page.text


def test_explicit_simulator_sends_live_traffic(whatsapp_only: LiveServer) -> None:
    org = make_org(whatsapp_only)
    data = assert_ok(
        send(whatsapp_only, org.live_key, to=["+14155550100"], channel=["whatsapp"]), 202
    )
    [recipient] = data["recipients"]
    assert recipient["channel"] == "whatsapp"
    with httpx.Client(base_url=whatsapp_only.base_url, timeout=30) as http:
        done = wait_status(http, org.live_key, recipient["message_id"], "READ")
    assert done["channel"] == "whatsapp" and done["direction"] == "OUTBOUND"


def test_auto_detection_picks_only_a_channel_with_a_live_provider(
    whatsapp_only: LiveServer,
) -> None:
    org = make_org(whatsapp_only)
    headers = {"x-api-key": org.live_key}
    with httpx.Client(base_url=whatsapp_only.base_url, timeout=30) as http:
        # A live number ending in 0003 has WhatsApp: it can make WhatsApp its default channel.
        contact = assert_ok(
            http.post("/v3/contacts", json={"phone_number": "+14155550003"}, headers=headers),
            201,
        )
        assert contact["available_channels"] == "sms,whatsapp"
        assert_ok(
            http.patch(
                f"/v3/contacts/{contact['id']}",
                json={"default_channel": "whatsapp"},
                headers=headers,
            )
        )
    # Without a default channel auto-detection falls back to SMS, which has no live provider:
    # the whole request is refused, the WhatsApp recipient included. (Checked first: after an
    # accepted send the workers keep writing this customer's events.)
    before = customer_counts(whatsapp_only, org.id)
    error = assert_error(
        send(whatsapp_only, org.live_key, to=["+14155550003", "+14155550150"]), "PROVIDER_003"
    )
    assert "SENTD_SMS_PROVIDER" in error["details"]["channel"][0]
    assert customer_counts(whatsapp_only, org.id) == before
    data = assert_ok(send(whatsapp_only, org.live_key, to=["+14155550003"]), 202)
    assert [r["channel"] for r in data["recipients"]] == ["whatsapp"]


def test_a_contact_a_live_send_creates_has_whatsapp(whatsapp_only: LiveServer) -> None:
    org = make_org(whatsapp_only)
    assert_ok(send(whatsapp_only, org.live_key, to=["+14155550003"], channel=["whatsapp"]), 202)
    with httpx.Client(base_url=whatsapp_only.base_url, timeout=30) as http:
        found = assert_ok(
            http.get("/v3/contacts", params={"search": "0003"}, headers={"x-api-key": org.live_key})
        )
    [contact] = [c for c in found["contacts"] if c["phone_number"] == "+14155550003"]
    assert contact["available_channels"] == "sms,whatsapp"
