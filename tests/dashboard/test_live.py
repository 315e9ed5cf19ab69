"""Live refresh: the message page and a webhook's delivery log name the address the dashboard's
own script fetches them from again; that address answers the same region, which stops being
live once the message has settled. Without the script, a Reload link does the same."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.dashboard.helpers import give_password, owner_email, signed_in
from tests.dashboard.test_pages import send
from tests.factories import make_org
from tests.live_server import LiveServer

LIVE = re.compile(r'<div id="(live-[a-z]+)" data-live-src="([^"]+)" data-live-every="(\d+)">')


def test_the_message_page_refreshes_itself_until_the_message_settles(
    dash_server: LiveServer,
) -> None:
    org = make_org(dash_server)
    give_password(dash_server, org.owner_id)
    dash = signed_in(dash_server, owner_email(dash_server, org))
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    message_id = send(dash_server, org.live_key, scheduled_at=tomorrow)
    page = dash.get(f"/messages/{message_id}")
    live = LIVE.search(page.text)
    assert live and live.group(1) == "live-message"
    assert live.group(2) == f"/dashboard/messages/{message_id}"
    assert f'<a href="/dashboard/messages/{message_id}">Reload</a>' in page.text
    # What the script fetches: the same page, with the region it replaces.
    again = dash.http.get(live.group(2), headers={"accept": "text/html"})
    assert again.status_code == 200 and 'id="live-message"' in again.text
    csp = again.headers["content-security-policy"]
    assert "connect-src 'self'" in csp and "script-src 'self'" in csp
    # Cancelled: final, but deliveries may still follow its event for a minute.
    cancelled = dash.post_form(f"/messages/{message_id}", f"/messages/{message_id}/cancel")
    assert cancelled.status_code == 303
    assert LIVE.search(dash.get(f"/messages/{message_id}").text)
    clock = dash_server.app.state.clock
    clock.advance(timedelta(minutes=2))
    try:
        settled = dash.get(f"/messages/{message_id}").text
    finally:
        clock.advance(timedelta(minutes=-2))
    assert 'id="message-status">CANCELLED' in settled
    assert '<div id="live-message">' in settled  # no longer live: the script stops


def test_the_delivery_log_refreshes_from_the_webhooks_page(dash_server: LiveServer) -> None:
    org = make_org(dash_server)
    give_password(dash_server, org.owner_id)
    dash = signed_in(dash_server, owner_email(dash_server, org))
    made = dash.post_form(
        "/webhooks/new",
        "/webhooks",
        {
            "display_name": "Live",
            "endpoint_url": "https://example.com/live",
            "event_types": "message.sent",
        },
    )
    assert made.status_code == 200
    # Shown as the answer to the form's POST, the log still refreshes from the webhook's page.
    live = LIVE.search(made.text)
    assert live and live.group(1) == "live-deliveries"
    assert re.fullmatch(r"/dashboard/webhooks/[0-9a-f-]{36}", live.group(2))
    assert 'id="live-deliveries"' in dash.http.get(live.group(2)).text


def test_the_script_is_sentds_own(dash_server: LiveServer) -> None:
    org = make_org(dash_server)
    give_password(dash_server, org.owner_id)
    dash = signed_in(dash_server, owner_email(dash_server, org))
    script = dash.get("/static/dashboard.js")
    assert script.status_code == 200
    assert "data-live-src" in script.text and "DOMParser" in script.text
    assert "http" not in re.sub(r"//.*", "", script.text)  # fetches nothing from elsewhere
