"""The operator console: only operators, credit reflected in the balance, plans, suspension,
maintenance mode."""

from __future__ import annotations

import re

import httpx

from sentd.services import dashboard_sessions
from tests.dashboard.helpers import add_member, give_password, owner_email, signed_in
from tests.factories import make_org
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
