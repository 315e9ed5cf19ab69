"""The dashboard in real Chromium: sign in through the form, make a key (copy button), walk every
page as the owner (operator too) and as a billing user, with a screenshot of each in
artifacts/dashboard/. Nothing outside sentd is fetched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from sentd.services import dashboard_sessions
from tests.browser.conftest import ARTIFACTS
from tests.dashboard.helpers import PASSWORD, add_member, give_password, owner_email
from tests.dashboard.test_pages import send
from tests.factories import make_org
from tests.live_server import LiveServer

OWNER_PAGES = (
    "overview",
    "keys",
    "messages",
    "webhooks",
    "contacts",
    "templates",
    "profiles",
    "users",
    "billing",
    "operator",
    "webhooks/new",
    "templates/new",
    "contacts/new",
    "organizations",
    "operator/reviews",
)


def _page(browser: Any, server: LiveServer, refused: list[str]) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    def only_sentd(route: Any) -> None:
        if route.request.url.startswith(server.base_url):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", only_sentd)
    return page


def _sign_in(page: Any, server: LiveServer, email: str) -> None:
    page.goto(f"{server.base_url}/dashboard/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard/overview")


def test_dashboard_pages_in_chromium(server: LiveServer, browser: Any) -> None:
    shots = ARTIFACTS / "dashboard"
    shots.mkdir(parents=True, exist_ok=True)
    org = make_org(server)
    give_password(server, org.owner_id)
    email = owner_email(server, org)
    server.run(
        dashboard_sessions.set_operator(
            server.app.state.db, email, organization_id=org.id, operator=True
        )
    )
    refused: list[str] = []
    page = _page(browser, server, refused)
    page.goto(f"{server.base_url}/dashboard/sign-in")
    page.screenshot(path=str(shots / "sign-in.png"))
    _sign_in(page, server, email)
    # A key, made with the form; the copy button copies it.
    page.goto(f"{server.base_url}/dashboard/keys")
    page.get_by_label("Name").fill("browser key")
    page.get_by_role("button", name="Create a live key").click()
    key = page.locator("#new-key").inner_text()
    assert key.startswith("sk_live_")
    page.screenshot(path=str(shots / "key-created.png"))
    for name in OWNER_PAGES:
        page.goto(f"{server.base_url}/dashboard/{name}")
        assert page.locator("h1").count() == 1, name
        page.screenshot(path=str(shots / f"{name.replace('/', '-')}.png"), full_page=True)
    # A form refused: the problem next to its field, with the catalog's code.
    page.goto(f"{server.base_url}/dashboard/contacts/new")
    page.get_by_label("Phone number").fill("12")
    page.get_by_role("button", name="Create the contact").click()
    assert "VALIDATION_002" in page.locator("#phone_number-error").inner_text()
    page.screenshot(path=str(shots / "form-problem.png"))
    # Live refresh: a scheduled message cancelled through the API turns CANCELLED on its open
    # page without a reload.
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    message_id = send(server, key, scheduled_at=tomorrow)
    page.goto(f"{server.base_url}/dashboard/messages/{message_id}")
    assert page.locator("#message-status").inner_text() == "SCHEDULED"
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        cancelled = http.post(
            f"/v3/messages/{message_id}/cancel", json={}, headers={"x-api-key": key}
        )
    assert cancelled.status_code == 200, cancelled.text
    page.locator("#message-status", has_text="CANCELLED").wait_for(timeout=15000)
    assert page.locator("#live-message").get_attribute("data-live-updated")
    page.screenshot(path=str(shots / "message-live.png"), full_page=True)
    page.goto(f"{server.base_url}/dashboard/overview")
    # Keyboard: the skip link is the first stop.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    # Test mode, switched with the header's button.
    page.get_by_role("button", name="Switch to test").click()
    page.wait_for_selector(".test-banner")
    page.screenshot(path=str(shots / "test-mode.png"))
    page.close()
    # A billing user sees Billing, not Messages; the page refuses with AUTH_004.
    _, billing = add_member(server, org, "billing")
    page = _page(browser, server, refused)
    _sign_in(page, server, billing)
    assert page.get_by_role("link", name="Billing").count() == 1
    assert page.get_by_role("link", name="Messages").count() == 0
    answer = page.goto(f"{server.base_url}/dashboard/messages")
    assert answer is not None and answer.status == 403
    assert "AUTH_004" in page.content()
    page.screenshot(path=str(shots / "forbidden.png"))
    page.close()
    assert refused == []
