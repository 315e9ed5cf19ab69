"""The dashboard's flows in real Chromium, one page for the module: signing in; accepting an
invitation from its mailed link; a key made on the page used with the SDK until it is revoked
there; a message followed to DELIVERED and its failing webhook retried from the page; what each
role sees; the operator's credit in the organization's balance. A screenshot of each page visited
goes to artifacts/dashboard/flow-*.png. The same flows are checked over HTTP in tests/dashboard."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
import sent_dm

from sentd.db.repos import customers
from sentd.services import dashboard_sessions
from tests.browser.conftest import ARTIFACTS
from tests.browser.helpers import new_page, sign_in
from tests.dashboard.helpers import PASSWORD, add_member, give_password, owner_email
from tests.dashboard.test_pages import create_webhook, send
from tests.factories import Org, make_org
from tests.live_server import LiveServer
from tests.waiting import wait_until
from tests.webhook_receiver import Behaviour, WebhookReceiver

SHOTS = ARTIFACTS / "dashboard"

ALL_SECTIONS = [
    "Overview",
    "API keys",
    "Messages",
    "Webhooks",
    "Contacts",
    "Templates",
    "Sender profiles",
    "Users",
    "Billing",
]


@pytest.fixture(scope="module")
def refused() -> list[str]:
    """Requests the page made outside sentd (each aborted): none is expected."""
    return []


@pytest.fixture(scope="module")
def page(browser: Any, busy_server: LiveServer, refused: list[str]) -> Iterator[Any]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    opened = new_page(browser, busy_server, refused)
    yield opened
    opened.close()
    assert refused == []


@pytest.fixture
def fresh(page: Any) -> Any:
    """The module's page, signed out (its cookies cleared) and blank."""
    page.context.clear_cookies()
    page.goto("about:blank")
    return page


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"flow-{name}.png"), full_page=True)


def go(page: Any, server: LiveServer, path: str) -> Any:
    answer = page.goto(f"{server.base_url}/dashboard{path}")
    assert answer is not None
    return answer


def reload_until(page: Any, locator: Any, what: str, timeout: float = 20.0) -> None:
    """Reload `page` until `locator` matches (pages that are not live-refreshed, or to not wait
    for the refresh's period)."""

    def present() -> bool:
        page.reload()
        return bool(locator.count())

    wait_until(present, what, timeout)


def owner_of(server: LiveServer, **balances: int) -> tuple[Org, str]:
    org = make_org(server, **balances)
    give_password(server, org.owner_id)
    return org, owner_email(server, org)


def test_sign_in_then_an_invitation_accepted_from_its_link(
    busy_server: LiveServer, fresh: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server, page = busy_server, fresh
    _, email = owner_of(server)
    # A wrong password is refused on the form, which keeps the email.
    go(page, server, "/overview")
    page.wait_for_url("**/dashboard/sign-in?next=/dashboard/overview")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").filter(has_text="Wrong email or password").wait_for()
    assert page.get_by_label("Email").input_value() == email
    shot(page, "sign-in-refused")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard/overview")
    assert f"{email} (owner)" in page.locator(".who").inner_text()
    # The owner invites a developer on the Users page; the mail carries the link.
    go(page, server, "/users")
    page.get_by_label("Email").fill("joiner@example.com")
    page.get_by_label("Name").fill("Joiner")
    page.get_by_label("Role").select_option("developer")
    with caplog.at_level(logging.INFO, logger="sentd.mail"):
        page.get_by_role("button", name="Invite").click()
        page.wait_for_url("**/dashboard/users?done=invited")
    [mail] = [r for r in caplog.records if getattr(r, "mail", None) == "invitation"]
    link: str = mail.accept_url  # type: ignore[attr-defined]
    assert link.startswith(f"{server.base_url}/dashboard/invitation?token=")
    assert page.locator("tr", has_text="joiner@example.com").locator("text=invited").count() == 1
    shot(page, "users-invited")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/dashboard/sign-in?done=signed-out")
    # The invitee opens the link, sets a password and lands signed in.
    page.goto(link)
    page.get_by_label("New password").fill("a long enough password")
    page.get_by_label("The same again").fill("a long enough password")
    shot(page, "invitation")
    page.get_by_role("button", name="Join and set password").click()
    page.wait_for_url("**/dashboard/overview?done=joined")
    assert "joiner@example.com (developer)" in page.locator(".who").inner_text()
    assert "invitation is accepted" in page.get_by_role("status").first.inner_text()
    shot(page, "invitation-accepted")
    # The link is used up.
    page.goto(link)
    page.get_by_label("New password").fill("another long password")
    page.get_by_label("The same again").fill("another long password")
    page.get_by_role("button", name="Join and set password").click()
    page.get_by_role("alert").filter(has_text="no pending invitation").wait_for()


def test_a_key_made_and_revoked_on_the_page_with_the_sdk(
    busy_server: LiveServer, fresh: Any
) -> None:
    server, page = busy_server, fresh
    _, email = owner_of(server)
    sign_in(page, server, email)
    go(page, server, "/keys")
    page.get_by_label("Name").fill("sdk key")
    page.get_by_role("button", name="Create a live key").click()
    key = page.locator("#new-key").inner_text()
    assert key.startswith("sk_live_")
    shot(page, "key-created")
    with sent_dm.Sent(base_url=server.base_url, api_key=key) as sdk:
        me = sdk.me.retrieve().data
        assert me is not None and me.mode == "live"
        go(page, server, "/keys")  # the listing never shows the key again
        assert key not in page.content()
        row = page.locator("tr[data-key]", has_text="sdk key")
        assert row.locator(".state").inner_text() == "active"
        row.get_by_role("button", name="Revoke").click()
        page.wait_for_url("**/dashboard/keys?done=key-revoked")
        assert row.locator(".state").inner_text() == "revoked"
        shot(page, "key-revoked")

        def refused() -> sent_dm.AuthenticationError | None:
            try:
                sdk.me.retrieve()
            except sent_dm.AuthenticationError as exc:
                return exc
            return None

        refusal = wait_until(refused, "the revoked key refused", timeout=5)
    assert refusal.status_code == 401
    assert "AUTH_002" in str(refusal.body)


def test_a_message_followed_to_delivered_and_its_failing_webhook_retried(
    busy_server: LiveServer, fresh: Any
) -> None:
    server, page = busy_server, fresh
    org, email = owner_of(server)
    sign_in(page, server, email)
    page.get_by_role("button", name="Switch to test").click()
    page.locator(".test-banner").wait_for()
    with WebhookReceiver(behaviour=Behaviour(fail_first=2)) as receiver:
        made = create_webhook(
            server,
            org.test_key,
            "Fails twice",
            receiver.url,
            "message.delivered",
            retry_count=1,
            timeout_seconds=5,
        )
        receiver.secret = made["signing_secret"]
        message_id = send(server, org.test_key, to=["+14155550177"])
        # The message, found in the list, reaches DELIVERED on its page.
        go(page, server, "/messages")
        page.locator(f'a[href$="/messages/{message_id}"]').click()
        page.wait_for_url(f"**/dashboard/messages/{message_id}")
        assert "+14155550177" in page.content()
        reload_until(page, page.locator("#message-status", has_text="DELIVERED"), "DELIVERED")
        assert page.locator(".status", has_text="QUEUED").count() >= 1  # the timeline
        shot(page, "message-delivered")
        # The delivery it caused fails twice (the endpoint answers 500): its attempts are shown.
        hook = page.get_by_role("link", name=receiver.url)
        reload_until(page, hook, "the webhook delivery on the message's page")
        hook.click()
        page.wait_for_url(f"**/dashboard/webhooks/{made['id']}")
        failed = page.locator("tr.delivery-failed")
        reload_until(page, failed, "the delivery failed")
        attempts = page.locator("tr.attempt").all_inner_texts()
        assert [a.split(",")[0] for a in attempts] == ["attempt 1: 500", "attempt 2: 500"]
        shot(page, "webhook-failed")
        # Retried from the page, it is delivered.
        failed.get_by_role("button", name="Retry").click()
        page.wait_for_url(f"**/dashboard/webhooks/{made['id']}?done=retried")
        [delivery] = receiver.wait_for(1)
        assert delivery.verified and delivery.body["payload"]["message_id"] == message_id
        reload_until(page, page.locator("tr.delivery-delivered"), "the retried delivery")
        assert page.locator("tr.attempt", has_text=re.compile(r"attempt 3: 200")).count() == 1
        assert page.get_by_role("button", name="Retry").count() == 0
        shot(page, "webhook-retried")


# (role, the sections its nav lists, a page it is refused, what the refusal says): owners and
# admins have every section of the organization, and are refused the server's operator console.
ROLES = (
    ("owner", ALL_SECTIONS, "/operator", "Operators only"),
    ("admin", ALL_SECTIONS, "/operator", "Operators only"),
    ("developer", [s for s in ALL_SECTIONS if s != "Billing"], "/billing", "AUTH_004"),
    ("billing", ["Overview", "Sender profiles", "Users", "Billing"], "/messages", "AUTH_004"),
)


def test_each_role_sees_its_sections_and_is_refused_the_others(
    busy_server: LiveServer, fresh: Any
) -> None:
    server, page = busy_server, fresh
    org, owner = owner_of(server)
    for role, sections, forbidden, refusal in ROLES:
        email = owner if role == "owner" else add_member(server, org, role)[1]
        page.context.clear_cookies()
        sign_in(page, server, email)
        nav = page.get_by_role("navigation", name="Sections").get_by_role("link")
        assert nav.all_inner_texts() == sections, role
        shot(page, f"role-{role}")
        answer = go(page, server, forbidden)
        assert answer.status == 403, (role, forbidden)
        assert refusal in page.locator("main").inner_text(), role
        shot(page, f"role-{role}-forbidden")


def test_the_operators_credit_shows_in_the_balance(busy_server: LiveServer, fresh: Any) -> None:
    server, page = busy_server, fresh
    operator_org, operator = owner_of(server)
    customer, customer_owner = owner_of(server, live_micros=0)
    server.run(
        dashboard_sessions.set_operator(
            server.app.state.db, operator, organization_id=operator_org.id, operator=True
        )
    )
    sign_in(page, server, operator)
    page.get_by_role("link", name="Operator console").click()
    page.wait_for_url("**/dashboard/operator")
    page.get_by_role("link", name=customer_name(server, customer)).click()
    page.wait_for_url(f"**/dashboard/operator/organizations/{customer.id}")
    assert page.locator('[data-balance="live"]').inner_text() == "0.00 USD"
    page.get_by_label("Credit", exact=True).fill("12.5")
    page.get_by_label("Mode").select_option("live")
    page.get_by_role("button", name="Credit", exact=True).click()
    page.wait_for_url("**?done=credited")
    assert page.locator('[data-balance="live"]').inner_text() == "12.50 USD"
    shot(page, "operator-credited")
    page.context.clear_cookies()
    sign_in(page, server, customer_owner)
    assert page.locator('[data-balance="live"]').inner_text() == "12.50 USD"
    shot(page, "credit-in-overview")


def customer_name(server: LiveServer, org: Org) -> str:
    async def go() -> str:
        async with server.app.state.db.connection() as conn:
            row = await customers.get(conn, org.id)
        assert row is not None
        return row.name

    return server.run(go())
