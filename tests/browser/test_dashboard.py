"""The dashboard in real Chromium: sign in through the form, make a key (copy button), walk every
page as the owner (operator too) and as a billing user, with a screenshot of each in
artifacts/dashboard/; the overview's chart drawn from a month of messages (the screenshot in
docs/img/dashboard-overview.png). Nothing outside sentd is fetched."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from sentd.clock import Clock
from sentd.db.scope import Scope
from sentd.services import dashboard_reads, dashboard_sessions
from tests.browser.conftest import ARTIFACTS
from tests.browser.helpers import new_page, sign_in
from tests.dashboard.helpers import add_member, give_password, owner_email
from tests.dashboard.test_pages import send
from tests.factories import Org, make_org, set_limits
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
    page = new_page(browser, server, refused)
    page.goto(f"{server.base_url}/dashboard/sign-in")
    page.screenshot(path=str(shots / "sign-in.png"))
    sign_in(page, server, email)
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
    page = new_page(browser, server, refused)
    sign_in(page, server, billing)
    assert page.get_by_role("link", name="Billing").count() == 1
    assert page.get_by_role("link", name="Messages").count() == 0
    answer = page.goto(f"{server.base_url}/dashboard/messages")
    assert answer is not None and answer.status == 403
    assert "AUTH_004" in page.content()
    page.screenshot(path=str(shots / "forbidden.png"))
    page.close()
    assert refused == []


# -- the overview's chart, from a month of messages ------------------------------------------

# Days ago: SMS delivered, SMS failed (the simulator refuses `…0001`), WhatsApp read, scheduled
# and cancelled.
MONTH = {
    0: (5, 1, 2, 1),
    1: (7, 0, 3, 0),
    3: (4, 2, 1, 1),
    6: (9, 1, 0, 0),
    8: (3, 0, 4, 2),
    12: (6, 1, 2, 0),
    15: (2, 0, 1, 1),
    20: (8, 2, 3, 0),
    26: (4, 0, 0, 1),
    29: (3, 1, 1, 0),
}


def _send_month(server: LiveServer, org: Org) -> dict[date, dict[str, int]]:
    """MONTH's messages, each day's sent with the server's clock set back to it; the counts
    each day should end with."""
    clock: Clock = server.app.state.clock
    today = clock.now().date()
    expected: dict[date, dict[str, int]] = {}
    serial = 0

    def numbers(count: int, suffix: str) -> list[str]:
        nonlocal serial
        serial += count
        return [f"+1415{500 + serial - i:03d}{suffix}" for i in range(count)]

    for ago, (delivered, failed, read, cancelled) in MONTH.items():
        clock.advance(-timedelta(days=ago))
        try:
            if delivered:
                send(server, org.live_key, to=numbers(delivered, "1000"))
            if failed:
                send(server, org.live_key, to=numbers(failed, "0001"))
            if read:
                send(server, org.live_key, to=numbers(read, "1000"), channel=["whatsapp"])
            if cancelled:
                later = (clock.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
                with httpx.Client(base_url=server.base_url, timeout=30) as http:
                    sent = http.post(
                        "/v3/messages",
                        json={
                            "to": numbers(cancelled, "1000"),
                            "text": "later",
                            "channel": ["sms"],
                            "scheduled_at": later,
                        },
                        headers={"x-api-key": org.live_key},
                    )
                    assert sent.status_code == 202, sent.text
                    for recipient in sent.json()["data"]["recipients"]:
                        answer = http.post(
                            f"/v3/messages/{recipient['message_id']}/cancel",
                            json={},
                            headers={"x-api-key": org.live_key},
                        )
                        assert answer.status_code == 200, answer.text
        finally:
            clock.advance(timedelta(days=ago))
        counts = {"DELIVERED": delivered, "FAILED": failed, "READ": read, "CANCELLED": cancelled}
        expected[today - timedelta(days=ago)] = {s: n for s, n in counts.items() if n}
    return expected


def _daily_counts(server: LiveServer, org: Org) -> dict[date, dict[str, int]]:
    async def go() -> list[Any]:
        async with server.app.state.db.connection() as conn:
            since = datetime.now(UTC) - timedelta(days=31)
            return await dashboard_reads.daily_counts(conn, Scope(org.id, True), since)

    counts: dict[date, dict[str, int]] = {}
    for row in server.run(go()):
        counts.setdefault(row["day"], {})[row["status"]] = int(row["n"])
    return counts


def test_the_overview_chart_shows_a_month_of_messages_whole(
    busy_server: LiveServer, browser: Any
) -> None:
    org = make_org(busy_server, live_micros=100_000_000)
    set_limits(busy_server, org, messages_per_minute=1000)
    give_password(busy_server, org.owner_id)
    expected = _send_month(busy_server, org)
    deadline = time.monotonic() + 60
    while (counts := _daily_counts(busy_server, org)) != expected:
        assert time.monotonic() < deadline, f"final statuses not reached: {counts}"
        time.sleep(0.2)
    refused: list[str] = []
    page = new_page(browser, busy_server, refused)
    sign_in(page, busy_server, owner_email(busy_server, org))
    chart = page.get_by_role("img", name="Messages per day by status")
    assert chart.count() == 1
    total = sum(sum(day.values()) for day in expected.values())
    description = chart.locator("desc").text_content() or ""
    assert description.startswith(f"{total} messages in the last 30 days")
    assert chart.locator("rect").count() == sum(len(day) for day in expected.values())
    # Every label lies whole inside the drawing, as the browser lays it out.
    boxes = chart.evaluate(
        "svg => [...svg.querySelectorAll('text')].map(t => {"
        " const b = t.getBBox(); return [t.textContent, b.x, b.x + b.width]; })"
    )
    width = float(chart.get_attribute("viewBox").split()[2])
    peak = max(sum(day.values()) for day in expected.values())
    assert f"peak {peak}/day" in [text for text, _, _ in boxes]
    for text, left, right in boxes:
        assert left >= 0 and right <= width, (text, left, right)
    legend = page.locator("figcaption").inner_text()
    for status in ("DELIVERED", "READ", "FAILED", "CANCELLED"):
        n = sum(day.get(status, 0) for day in expected.values())
        assert f"{status} {n}" in legend
    page.screenshot(
        path=str(ARTIFACTS / "dashboard" / "overview-with-messages.png"), full_page=True
    )
    # The figures as a table, one row per day with messages.
    page.get_by_text("The figures as a table").click()
    table = page.get_by_role("table", name="Messages per day by status, days with messages only")
    assert table.locator("tbody tr").count() == len(expected)
    page.close()
    assert refused == []
