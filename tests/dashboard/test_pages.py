"""The organization's pages over HTTP: every page renders, keys work with the SDK, a message is
followed to DELIVERED, a failing webhook is retried, roles see what the API grants them, and
one organization's session never sees another's data."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sent_dm

from tests.dashboard.helpers import Dash, add_member, give_password, owner_email, signed_in
from tests.factories import Org, make_org
from tests.live_server import LiveServer
from tests.waiting import wait_until
from tests.webhook_receiver import Behaviour, WebhookReceiver

PAGES = (
    "/overview",
    "/keys",
    "/messages",
    "/webhooks",
    "/contacts",
    "/templates",
    "/profiles",
    "/users",
    "/billing",
)


def api(server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=30)


def send(server: LiveServer, key: str, **extra: Any) -> str:
    body = {"to": ["+14155550123"], "text": "hello", "channel": ["sms"], **extra}
    with api(server) as http:
        response = http.post("/v3/messages", json=body, headers={"x-api-key": key})
    assert response.status_code == 202, response.text
    message_id: str = response.json()["data"]["recipients"][0]["message_id"]
    return message_id


@pytest.fixture
def owner(dash_server: LiveServer) -> tuple[Org, Dash]:
    org = make_org(dash_server)
    give_password(dash_server, org.owner_id)
    return org, signed_in(dash_server, owner_email(dash_server, org))


def to_test_mode(dash: Dash) -> None:
    assert dash.post_form("/overview", "/mode", {"mode": "test"}).status_code == 303


def test_every_page_renders_for_the_owner(owner: tuple[Org, Dash]) -> None:
    _, dash = owner
    for path in PAGES:
        page = dash.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        assert 'aria-current="page"' in page.text
    assert "<svg" in dash.get("/overview").text


def test_a_key_made_on_the_page_works_with_the_sdk_until_revoked(
    dash_server: LiveServer, owner: tuple[Org, Dash]
) -> None:
    _, dash = owner
    to_test_mode(dash)
    created = dash.post_form("/keys", "/keys", {"name": "from the dashboard"})
    assert created.status_code == 200
    key = re.search(r'<code id="new-key" class="secret">([^<]+)</code>', created.text)
    assert key is not None and key.group(1).startswith("sk_test_")
    with sent_dm.Sent(base_url=dash_server.base_url, api_key=key.group(1)) as sdk:
        me = sdk.me.retrieve().data
        assert me is not None and me.mode == "test"
        listing = dash.get("/keys").text
        assert "from the dashboard" in listing and key.group(1) not in listing
        [row] = re.findall(r'data-key="([0-9a-f-]+)">\s*<td><code>' + key.group(1)[:12], listing)
        revoked = dash.post_form("/keys", f"/keys/{row}/revoke")
        assert revoked.status_code == 303
        with pytest.raises(sent_dm.AuthenticationError):
            wait_until(lambda: sdk.me.retrieve() and False, "revocation", timeout=5)


def test_a_message_is_followed_to_delivered_and_a_scheduled_one_cancelled(
    dash_server: LiveServer, owner: tuple[Org, Dash]
) -> None:
    org, dash = owner
    to_test_mode(dash)
    message_id = send(dash_server, org.test_key)
    listed = dash.get("/messages?status=&channel=sms&number=%2B14155550123")
    assert message_id in listed.text
    page = wait_until(
        lambda: (p := dash.get(f"/messages/{message_id}")) and "DELIVERED</span>" in p.text and p,
        "delivery",
    )
    assert "Lifecycle" in page.text and page.text.count('class="status status-') >= 3
    assert "Cancel this message" not in page.text
    # A scheduled one can be cancelled from its page.
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    later = send(dash_server, org.test_key, scheduled_at=tomorrow.strftime("%Y-%m-%dT%H:%M:%SZ"))
    page = dash.get(f"/messages/{later}")
    assert "Cancel this message" in page.text
    assert dash.post_form(f"/messages/{later}", f"/messages/{later}/cancel").status_code == 303
    assert 'id="message-status">CANCELLED' in dash.get(f"/messages/{later}").text
    # Live mode does not show test messages.
    assert dash.post_form("/overview", "/mode", {"mode": "live"}).status_code == 303
    assert dash.get(f"/messages/{message_id}").status_code == 404


def create_webhook(
    server: LiveServer, key: str, name: str, url: str, event: str, **extra: Any
) -> Any:
    """A webhook made through the API: its `data` (with the signing secret)."""
    body = {"display_name": name, "endpoint_url": url, "event_types": [event], **extra}
    with api(server) as http:
        made = http.post("/v3/webhooks", headers={"x-api-key": key}, json=body)
    assert made.status_code in (200, 201), made.text
    return made.json()["data"]


def test_a_failing_webhook_shows_its_attempts_and_is_retried(
    dash_server: LiveServer, owner: tuple[Org, Dash]
) -> None:
    org, dash = owner
    to_test_mode(dash)
    with WebhookReceiver(behaviour=Behaviour(fail_first=2)) as receiver:
        made = create_webhook(
            dash_server,
            org.test_key,
            "Failing",
            receiver.url,
            "message.delivered",
            retry_count=1,
            timeout_seconds=5,
        )
        webhook_id = made["id"]
        receiver.secret = made["signing_secret"]
        send(dash_server, org.test_key)
        page = wait_until(
            lambda: (p := dash.get(f"/webhooks/{webhook_id}")) and "Retry</button>" in p.text and p,
            "a failed delivery",
        )
        assert "attempt 1: 500" in page.text
        [delivery] = re.findall(r'data-delivery="([0-9a-f-]+)" class="delivery-failed"', page.text)
        retried = dash.post_form(
            f"/webhooks/{webhook_id}", f"/webhooks/{webhook_id}/deliveries/{delivery}/retry"
        )
        assert retried.status_code == 303
        receiver.behaviour.fail_first = 0
        receiver.behaviour.answered = 0
        receiver.wait_for(1)
        page = wait_until(
            lambda: (
                (p := dash.get(f"/webhooks/{webhook_id}")) and "delivery-delivered" in p.text and p
            ),
            "the retried delivery",
        )
        assert re.search(r"attempt [0-9]+: 200", page.text)
        # The message's page names the delivery it caused.
        assert (
            webhook_id
            in dash.get(f"/messages/{receiver.deliveries[0].body['payload']['message_id']}").text
        )
        # Send a test; rotate; disable.
        tested = dash.post_form(
            f"/webhooks/{webhook_id}",
            f"/webhooks/{webhook_id}/test",
            {"event_type": "message.sent"},
        )
        assert tested.status_code == 200 and 'id="test-result"' in tested.text
        rotated = dash.post_form(f"/webhooks/{webhook_id}", f"/webhooks/{webhook_id}/rotate-secret")
        assert rotated.status_code == 200 and "whsec_" in rotated.text
        toggled = dash.post_form(
            f"/webhooks/{webhook_id}", f"/webhooks/{webhook_id}/toggle", {"active": "false"}
        )
        assert toggled.status_code == 303
        assert 'id="webhook-state">disabled' in dash.get(f"/webhooks/{webhook_id}").text


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        ("admin", PAGES, ()),
        ("developer", tuple(p for p in PAGES if p != "/billing"), ("/billing",)),
        (
            "billing",
            ("/overview", "/profiles", "/users", "/billing"),
            ("/keys", "/messages", "/webhooks", "/contacts", "/templates"),
        ),
    ],
)
def test_each_role_sees_what_the_permission_matrix_grants(
    dash_server: LiveServer, role: str, allowed: tuple[str, ...], refused: tuple[str, ...]
) -> None:
    org = make_org(dash_server)
    _, email = add_member(dash_server, org, role)
    dash = signed_in(dash_server, email)
    nav = dash.get("/overview").text
    for path in allowed:
        assert dash.get(path).status_code == 200, path
        assert f'href="/dashboard{path}"' in nav, path
    for path in refused:
        page = dash.get(path)
        assert page.status_code == 403, path
        assert "AUTH_004" in page.text and "Insufficient permissions" in page.text
        assert f'href="/dashboard{path}"' not in nav, path
    if role != "admin":
        # Managing users is owner/admin only, as in the API.
        assert "Invite</button>" not in dash.get("/users").text
        refused_invite = dash.post_form(
            "/overview", "/users/invite", {"email": "x@example.com", "role": "developer"}
        )
        assert refused_invite.status_code == 403
    assert dash.get("/operator").status_code == 403


def test_users_are_invited_and_managed_with_the_apis_rules(owner: tuple[Org, Dash]) -> None:
    _, dash = owner
    invited = dash.post_form(
        "/users", "/users/invite", {"email": "new@example.com", "name": "New", "role": "admin"}
    )
    assert invited.status_code == 303
    page = dash.get("/users").text
    [user_id] = re.findall(r'data-user="([0-9a-f-]+)"><td>new@example.com', page)
    assert (
        dash.post_form("/users", f"/users/{user_id}/role", {"role": "developer"}).status_code == 303
    )
    assert "developer" in dash.get("/users").text
    again = dash.post_form("/users", "/users/invite", {"email": "new@example.com", "role": "admin"})
    assert again.status_code == 303  # re-inviting an invited user renews the invitation
    assert dash.post_form("/users", f"/users/{user_id}/remove").status_code == 303
    assert "new@example.com" not in dash.get("/users").text


def test_one_organizations_session_never_shows_anothers_data(dash_server: LiveServer) -> None:
    a, b = make_org(dash_server), make_org(dash_server)
    give_password(dash_server, a.owner_id)
    give_password(dash_server, b.owner_id)
    b_message = send(dash_server, b.live_key)
    b_webhook = create_webhook(
        dash_server, b.live_key, "B", "http://127.0.0.1:9/b", "message.sent"
    )["id"]
    b_member, b_email = add_member(dash_server, b, "developer")
    dash_b = signed_in(dash_server, owner_email(dash_server, b))
    b_key = re.findall(r'data-key="([0-9a-f-]+)"', dash_b.get("/keys").text)[0]
    dash = signed_in(dash_server, owner_email(dash_server, a))
    for path in (f"/messages/{b_message}", f"/webhooks/{b_webhook}"):
        assert dash.get(path).status_code == 404, path
    for page, path in (
        ("/messages", f"/messages/{b_message}/cancel"),
        ("/webhooks", f"/webhooks/{b_webhook}/rotate-secret"),
        ("/webhooks", f"/webhooks/{b_webhook}/toggle"),
        ("/webhooks", f"/webhooks/{b_webhook}/test"),
        ("/keys", f"/keys/{b_key}/revoke"),
        ("/users", f"/users/{b_member}/role"),
        ("/users", f"/users/{b_member}/remove"),
    ):
        assert dash.post_form(page, path, {"role": "admin"}).status_code == 404, path
    for path in PAGES:
        text = dash.get(path).text
        for secret in (b_message, b_webhook, b_key, str(b_member), b_email, str(b.id)):
            assert secret not in text, (path, secret)
    # B's key still works, B's member is untouched.
    assert "developer" in dash_b.get("/users").text
    with api(dash_server) as http:
        assert http.get("/v3/me", headers={"x-api-key": b.live_key}).status_code == 200
