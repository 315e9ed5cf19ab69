"""Creating webhooks, templates and contacts from the dashboard: what is made is what the API
would have made (read back through the API), and a refused form writes nothing and shows each
problem next to its field with the catalog's code and meaning."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from sentd.errors.catalog import get_spec
from tests.dashboard.helpers import (
    Dash,
    add_member,
    csrf_of,
    give_password,
    owner_email,
    signed_in,
)
from tests.factories import Org, make_key, make_org, set_limits
from tests.live_server import LiveServer


@pytest.fixture
def owner(dash_server: LiveServer) -> tuple[Org, Dash, str]:
    org = make_org(dash_server)
    give_password(dash_server, org.owner_id)
    key = make_key(dash_server, org)
    return org, signed_in(dash_server, owner_email(dash_server, org)), key


def listed(server: LiveServer, key: str, resource: str) -> list[dict[str, Any]]:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        response = http.get(f"/v3/{resource}", headers={"x-api-key": key})
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"][resource]
    return rows


def field_error(html: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="{name}-error">(.*?)</p>', html, re.S)
    assert match, f"no problem shown next to {name}"
    return match.group(1)


def submit(dash: Dash, page: str, path: str, data: list[tuple[str, str]]) -> httpx.Response:
    """A form posted with repeated names (checkboxes), the CSRF token read from `page`."""
    token = csrf_of(dash.get(page).text)
    return dash.http.post(
        f"/dashboard{path}",
        content=urlencode([("csrf", token), *data]),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )


def test_a_webhook_made_on_the_page_is_the_apis(
    dash_server: LiveServer, owner: tuple[Org, Dash, str]
) -> None:
    _, dash, key = owner
    assert dash.get("/webhooks/new").status_code == 200
    made = submit(
        dash,
        "/webhooks/new",
        "/webhooks",
        [
            ("display_name", "Orders"),
            ("endpoint_url", "https://example.com/hooks"),
            ("event_types", "message.delivered"),
            ("event_types", "message.failed"),
            ("retry_count", "2"),
            ("timeout_seconds", "10"),
        ],
    )
    assert made.status_code == 200, made.text
    assert "Webhook created." in made.text
    secret = re.search(r'<code id="new-secret" class="secret">([^<]+)</code>', made.text)
    assert secret
    [hook] = listed(dash_server, key, "webhooks")
    assert hook["display_name"] == "Orders"
    assert hook["endpoint_url"] == "https://example.com/hooks"
    assert sorted(hook["event_types"]) == ["message.delivered", "message.failed"]
    assert (hook["retry_count"], hook["timeout_seconds"]) == (2, 10)
    assert hook["signing_secret"] != secret.group(1)  # masked by the API, shown once here
    assert "Orders" in dash.get("/webhooks").text


def test_a_refused_webhook_writes_nothing_and_names_its_fields(
    dash_server: LiveServer, owner: tuple[Org, Dash, str]
) -> None:
    _, dash, key = owner
    refused = submit(
        dash,
        "/webhooks/new",
        "/webhooks",
        [
            ("display_name", "Bad"),
            ("endpoint_url", "ftp://example.com/x"),
            ("retry_count", "9"),
        ],
    )
    assert refused.status_code == 400
    assert "Nothing was saved" in refused.text
    url = field_error(refused.text, "endpoint_url")
    assert "VALIDATION_001" in url and "http:// or https://" in url
    events = field_error(refused.text, "event_types")
    assert "VALIDATION_005" in events and get_spec("VALIDATION_005").message in events
    retries = field_error(refused.text, "retry_count")
    assert "VALIDATION_005" in retries
    assert 'value="Bad"' in refused.text  # what was typed stays in the form
    assert listed(dash_server, key, "webhooks") == []


def test_a_template_made_on_the_page_and_submitted(
    dash_server: LiveServer, owner: tuple[Org, Dash, str]
) -> None:
    _, dash, key = owner
    assert dash.get("/templates/new").status_code == 200
    text = "Hi {{0:name}}, your order {{1:order_id}} has shipped and arrives soon."
    draft = dash.post_form(
        "/templates/new",
        "/templates",
        {"name": "shipped", "category": "UTILITY", "language": "en_US", "text": text},
    )
    assert draft.status_code == 303 and draft.headers["location"].endswith("done=created")
    review = dash.post_form(
        "/templates/new",
        "/templates",
        {"name": "shipped_2", "language": "fr", "text": text, "submit": "review"},
    )
    assert review.status_code == 303 and review.headers["location"].endswith("done=submitted")
    rows = {t["name"]: t for t in listed(dash_server, key, "templates")}
    assert rows["shipped"]["status"] == "DRAFT"
    assert rows["shipped"]["category"] == "UTILITY"
    body = rows["shipped"]["definition"]["body"]["multiChannel"]
    assert body["template"] == text
    assert [v["name"] for v in body["variables"]] == ["name", "order_id"]
    assert rows["shipped_2"]["status"] in ("PENDING", "APPROVED")  # the simulator may be quick
    assert rows["shipped_2"]["language"] == "fr"


def test_a_refused_template_writes_nothing_and_names_its_fields(
    dash_server: LiveServer, owner: tuple[Org, Dash, str]
) -> None:
    _, dash, key = owner
    refused = dash.post_form(
        "/templates/new",
        "/templates",
        {"name": "sent_reserved", "language": "english", "text": "Hi {{name}} there"},
    )
    assert refused.status_code == 400
    assert "VALIDATION_001" in field_error(refused.text, "name")
    assert "en_US" in field_error(refused.text, "language")
    assert "Hi {{name}} there" in refused.text
    # Model-valid fields, a definition the service refuses: the problem is on the text.
    refused = dash.post_form(
        "/templates/new", "/templates", {"name": "fine", "text": "Hi {{name}} there"}
    )
    assert refused.status_code == 400
    problem = field_error(refused.text, "text")
    assert "VALIDATION_001" in problem and "index:name" in problem
    # A name already taken: RESOURCE_007 next to the name.
    ok = dash.post_form("/templates/new", "/templates", {"name": "taken", "text": "Hello there"})
    assert ok.status_code == 303
    again = dash.post_form("/templates/new", "/templates", {"name": "taken", "text": "Hi again"})
    assert again.status_code == 400
    taken = field_error(again.text, "name")
    assert "RESOURCE_007" in taken and get_spec("RESOURCE_007").message in taken
    assert [t["name"] for t in listed(dash_server, key, "templates")] == ["taken"]


def test_contacts_made_on_the_page_and_refused_ones(
    dash_server: LiveServer, owner: tuple[Org, Dash, str]
) -> None:
    org, dash, key = owner
    assert dash.get("/contacts/new").status_code == 200
    made = dash.post_form("/contacts/new", "/contacts", {"phone_number": "+14155550199"})
    assert made.status_code == 303
    assert "+14155550199" in dash.get("/contacts").text
    bad = dash.post_form("/contacts/new", "/contacts", {"phone_number": "12"})
    assert bad.status_code == 400
    problem = field_error(bad.text, "phone_number")
    assert "VALIDATION_002" in problem and get_spec("VALIDATION_002").message in problem
    again = dash.post_form("/contacts/new", "/contacts", {"phone_number": "+14155550199"})
    assert "RESOURCE_007" in field_error(again.text, "phone_number")
    # A quota reached is the whole form's problem, with its code.
    set_limits(dash_server, org, contacts=1)
    full = dash.post_form("/contacts/new", "/contacts", {"phone_number": "+14155550100"})
    assert full.status_code >= 400
    assert 'id="form-error"' in full.text
    assert [c["phone_number"] for c in listed(dash_server, key, "contacts")] == ["+14155550199"]


def test_forms_need_the_messaging_role_and_csrf(
    dash_server: LiveServer, owner: tuple[Org, Dash, str]
) -> None:
    org, dash, key = owner
    _, email = add_member(dash_server, org, "billing")
    billing = signed_in(dash_server, email)
    for page in ("/webhooks/new", "/templates/new", "/contacts/new"):
        assert billing.get(page).status_code == 403
    no_token = dash.post("/contacts", {"phone_number": "+14155550177"})
    assert no_token.status_code == 403
    assert listed(dash_server, key, "contacts") == []
