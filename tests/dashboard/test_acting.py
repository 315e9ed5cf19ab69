"""Acting as a sender profile (the API's `x-profile-id`): what the pages write and read is the
profile's, as the API sees it with that header; only the organization's own profiles."""

from __future__ import annotations

from typing import Any

import httpx

from tests.dashboard.helpers import give_password, owner_email, signed_in
from tests.factories import make_key, make_org, make_profile
from tests.live_server import LiveServer


def contacts_of(server: LiveServer, key: str, **headers: str) -> list[str]:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        response = http.get("/v3/contacts", headers={"x-api-key": key, **headers})
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]["contacts"]
    return [r["phone_number"] for r in rows]


def test_a_session_acts_as_a_profile_as_the_api_does_with_x_profile_id(
    dash_server: LiveServer,
) -> None:
    org, other = make_org(dash_server), make_org(dash_server)
    profile = make_profile(dash_server, org, name="Shop")
    foreign = make_profile(dash_server, other, name="Not mine")
    give_password(dash_server, org.owner_id)
    key = make_key(dash_server, org)
    dash = signed_in(dash_server, owner_email(dash_server, org))
    listing = dash.get("/profiles").text
    assert "Act as this profile" in listing and 'id="acting-as"' not in listing

    acting = dash.post_form(
        "/profiles",
        "/profiles/act",
        {"profile_id": str(profile["id"]), "next": "/dashboard/contacts"},
    )
    assert acting.status_code == 303 and acting.headers["location"] == "/dashboard/contacts"
    page = dash.get("/contacts").text
    assert 'id="acting-as">acting as Shop<' in page
    made = dash.post_form("/contacts/new", "/contacts", {"phone_number": "+14155550142"})
    assert made.status_code == 303
    assert contacts_of(dash_server, key, **{"x-profile-id": str(profile["id"])}) == ["+14155550142"]
    assert contacts_of(dash_server, key) == []  # not the organization's
    # The profiles page still lists every profile, to switch among them.
    assert "acting as it" in dash.get("/profiles").text

    # Another organization's profile cannot be chosen; the session stays as it was.
    refused = dash.post_form("/profiles", "/profiles/act", {"profile_id": str(foreign["id"])})
    assert refused.status_code == 404
    assert 'id="acting-as">acting as Shop<' in dash.get("/overview").text

    # Back to the organization.
    back = dash.post_form("/overview", "/profiles/act", {"profile_id": ""})
    assert back.status_code == 303
    page = dash.get("/contacts").text
    assert 'id="acting-as"' not in page and "+14155550142" not in page
    # A new sign-in starts as the organization.
    again = dash.post_form("/profiles", "/profiles/act", {"profile_id": str(profile["id"])})
    assert again.status_code == 303
    fresh = signed_in(dash_server, owner_email(dash_server, org))
    assert 'id="acting-as"' not in fresh.get("/overview").text
