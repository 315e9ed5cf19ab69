"""The operator console: only operators, credit reflected in the balance, plans, suspension,
maintenance mode."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from sentd.services import dashboard_sessions
from tests.conftest import build_app
from tests.dashboard.helpers import add_member, give_password, owner_email, signed_in
from tests.factories import SHOP_PROFILE, make_key, make_org
from tests.live_server import LiveServer


def test_an_operators_credit_shows_in_the_organizations_balance(dash_server: LiveServer) -> None:
    operator_org, customer = make_org(dash_server), make_org(dash_server, live_micros=0)
    give_password(dash_server, operator_org.owner_id)
    give_password(dash_server, customer.owner_id)
    email = owner_email(dash_server, operator_org)
    dash = signed_in(dash_server, email)
    assert dash.get("/operator").status_code == 403
    dash_server.run(
        dashboard_sessions.set_operator(
            dash_server.app.state.db, email, organization_id=operator_org.id, operator=True
        )
    )
    console = dash.get("/operator")
    assert console.status_code == 200 and str(customer.id) in console.text
    org_page = f"/operator/organizations/{customer.id}"
    credited = dash.post_form(org_page, f"{org_page}/credit", {"amount": "12.5", "mode": "live"})
    assert credited.status_code == 303
    mine = signed_in(dash_server, owner_email(dash_server, customer))
    assert re.search(r'data-balance="live">12\.50 USD<', mine.get("/overview").text)
    assert 'data-balance="live">12.50 USD<' in mine.get("/billing").text
    # Plan and suspension, through the same services as `sentd orgs`.
    assert dash.post_form(org_page, f"{org_page}/plan", {"plan": "growth"}).status_code == 303
    assert "growth" in mine.get("/overview").text
    suspended = dash.post_form(org_page, f"{org_page}/suspend", {"suspended": "true"})
    assert suspended.status_code == 303
    with httpx.Client(base_url=dash_server.base_url) as http:
        refused = http.get("/v3/me", headers={"x-api-key": customer.live_key})
        assert refused.json()["error"]["code"] == "ACCOUNT_003"
    page = mine.get("/overview")
    assert page.status_code == 403 and "ACCOUNT_003" in page.text
    resumed = dash.post_form(org_page, f"{org_page}/suspend", {"suspended": "false"})
    assert resumed.status_code == 303
    assert mine.get("/overview").status_code == 200


def test_maintenance_mode_from_the_console(dash_server: LiveServer) -> None:
    org = make_org(dash_server)
    _, email = add_member(dash_server, org, "admin")
    dash_server.run(
        dashboard_sessions.set_operator(
            dash_server.app.state.db, email, organization_id=org.id, operator=True
        )
    )
    dash = signed_in(dash_server, email)
    on = dash.post_form("/operator", "/operator/maintenance", {"on": "true"})
    try:
        assert on.status_code == 303
        with httpx.Client(base_url=dash_server.base_url) as http:
            answer = http.get("/v3/me", headers={"x-api-key": org.live_key})
            assert answer.status_code == 503
        page = dash.get("/operator")  # the dashboard stays up
        assert 'id="maintenance-state">on' in page.text
    finally:
        off = dash.post_form("/operator", "/operator/maintenance", {"on": "false"})
        assert off.status_code == 303
    assert 'id="maintenance-state">off' in dash.get("/operator").text


@pytest.fixture(scope="module")
def manual_server(database_url: str) -> Iterator[LiveServer]:
    """A server whose template and profile reviews are the operator's."""
    live = LiveServer(
        build_app(database_url, template_review_backend="manual", profile_review_backend="manual")
    ).start()
    yield live
    live.stop()


def test_manual_reviews_are_decided_in_the_console(manual_server: LiveServer) -> None:
    server = manual_server
    operator_org, customer = make_org(server), make_org(server)
    give_password(server, operator_org.owner_id)
    email = owner_email(server, operator_org)
    server.run(
        dashboard_sessions.set_operator(
            server.app.state.db, email, organization_id=operator_org.id, operator=True
        )
    )
    give_password(server, customer.owner_id)
    mine = signed_in(server, owner_email(server, customer))
    text = "Hi {{0:name}}, your order {{1:order_id}} has shipped and arrives soon."
    for name in ("keep_me", "drop_me"):
        made = mine.post_form(
            "/templates/new", "/templates", {"name": name, "text": text, "submit": "review"}
        )
        assert made.status_code == 303
    key = make_key(server, customer)
    headers = {"x-api-key": key}
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        profile = http.post("/v3/profiles", json=SHOP_PROFILE, headers=headers).json()["data"]["id"]
        hook = {"webHookUrl": "http://127.0.0.1:9/hook"}  # loopback and closed
        completed = http.post(f"/v3/profiles/{profile}/complete", json=hook, headers=headers)
        assert completed.status_code == 202, completed.text
        templates = {
            t["name"]: t["id"]
            for t in http.get("/v3/templates", headers=headers).json()["data"]["templates"]
        }

    assert mine.get("/operator/reviews").status_code == 403  # operators only
    dash = signed_in(server, email)
    page = dash.get("/operator/reviews")
    assert page.status_code == 200
    for template_id in templates.values():
        assert f'data-template="{template_id}"' in page.text
    assert f'data-profile="{profile}"' in page.text
    assert "Reviews awaiting a decision" in dash.get("/operator").text

    base = "/operator/reviews"
    approved = dash.post_form(
        base, f"{base}/templates/{templates['keep_me']}", {"decision": "approve"}
    )
    assert approved.status_code == 303
    no_reason = dash.post_form(
        base, f"{base}/templates/{templates['drop_me']}", {"decision": "reject"}
    )
    assert no_reason.status_code == 400 and "needs a reason" in no_reason.text
    rejected = dash.post_form(
        base,
        f"{base}/templates/{templates['drop_me']}",
        {"decision": "reject", "reason": "Promotional wording in a utility template"},
    )
    assert rejected.status_code == 303
    again = dash.post_form(
        base, f"{base}/templates/{templates['keep_me']}", {"decision": "approve"}
    )
    assert again.status_code == 409
    profile_done = dash.post_form(
        base, f"{base}/profiles/{profile}", {"decision": "reject", "reason": "Brand unclear"}
    )
    assert profile_done.status_code == 303
    page = dash.get(base).text
    assert str(profile) not in page and templates["keep_me"] not in page

    # The customer sees the verdicts, as the CLI's decisions would show them.
    listing = mine.get("/templates").text
    assert "APPROVED" in listing and "Promotional wording in a utility template" in listing
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        got = http.get(f"/v3/profiles/{profile}", headers=headers).json()["data"]
    assert got["status"] == "rejected"
