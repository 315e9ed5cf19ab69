"""Signing in and out, cookies, CSRF, the throttle, invitations, password links, headers."""

from __future__ import annotations

import uuid

from sentd.services import users as user_service
from tests.dashboard.helpers import (
    PASSWORD,
    Dash,
    add_member,
    csrf_of,
    give_password,
    owner_email,
    signed_in,
)
from tests.factories import Org, insert_member, make_org
from tests.live_server import LiveServer


def test_sign_in_sets_a_rotating_httponly_lax_cookie(dash_server: LiveServer) -> None:
    org = make_org(dash_server)
    give_password(dash_server, org.owner_id)
    email = owner_email(dash_server, org)
    dash = Dash(dash_server)
    assert (
        dash.get("/overview").headers["location"] == "/dashboard/sign-in?next=/dashboard/overview"
    )
    first = dash.sign_in(email)
    assert first.status_code == 303 and first.headers["location"] == "/dashboard/overview"
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # plain http on loopback; "auto" adds it over https
    old = dash.http.cookies["sentd_session"]
    assert dash.get("/overview").status_code == 200
    # Signing in again rotates the cookie and ends the session it replaced.
    assert dash.sign_in(email).status_code == 303
    new = dash.http.cookies["sentd_session"]
    assert new != old
    stale = Dash(dash_server)
    stale.http.cookies.set("sentd_session", old, path="/dashboard")
    assert stale.get("/overview").status_code == 303
    # Signing out ends it.
    page = dash.get("/overview")
    assert dash.post("/sign-out", {"csrf": csrf_of(page.text)}).status_code == 303
    assert dash.get("/overview").status_code == 303


def test_wrong_password_and_unknown_email_answer_alike(dash_server: LiveServer) -> None:
    org = make_org(dash_server)
    give_password(dash_server, org.owner_id)
    dash = Dash(dash_server)
    wrong = dash.sign_in(owner_email(dash_server, org), "not the password")
    unknown = dash.sign_in("nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong email or password" in wrong.text and "Wrong email or password" in unknown.text
    assert "sentd_session" not in dash.http.cookies


def test_sign_in_is_throttled_per_account(dash_server: LiveServer) -> None:
    org = make_org(dash_server)
    give_password(dash_server, org.owner_id)
    email = owner_email(dash_server, org)
    dash = Dash(dash_server)
    for _ in range(3):  # the test server allows 3 failures per window
        assert dash.sign_in(email, "wrong password!").status_code == 401
    refused = dash.sign_in(email)  # even the right password, now
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in refused.text
    # Another account is not affected.
    _, other = add_member(dash_server, org, "developer")
    assert Dash(dash_server).sign_in(other).status_code == 303


def test_forms_without_the_csrf_token_are_refused(dash_server: LiveServer) -> None:
    org = make_org(dash_server)
    give_password(dash_server, org.owner_id)
    dash = signed_in(dash_server, owner_email(dash_server, org))
    for path, data in (
        ("/keys", {"name": "x"}),
        ("/mode", {"mode": "test"}),
        ("/sign-out", {}),
        ("/users/invite", {"email": "a@example.com", "role": "developer"}),
    ):
        assert dash.post(path, data).status_code == 403, path
        assert dash.post(path, {**data, "csrf": "forged"}).status_code == 403, path
    # Nothing happened: still signed in, still live mode, no key made by the forms.
    page = dash.get("/keys")
    assert page.status_code == 200 and "live mode" in page.text
    # The sign-in form needs its own token too (double-submit cookie).
    anonymous = Dash(dash_server)
    email = owner_email(dash_server, org)
    assert anonymous.post("/sign-in", {"email": email, "password": PASSWORD}).status_code == 403


def test_pages_refuse_framing_and_are_not_cached(dash_server: LiveServer) -> None:
    org = make_org(dash_server)
    give_password(dash_server, org.owner_id)
    dash = signed_in(dash_server, owner_email(dash_server, org))
    for response in (dash.get("/overview"), Dash(dash_server).get("/sign-in")):
        assert response.headers["x-frame-options"] == "DENY"
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-content-type-options"] == "nosniff"


def test_invitation_link_sets_the_password(dash_server: LiveServer) -> None:
    org = make_org(dash_server)

    async def invite() -> user_service.Invitation:
        db = dash_server.app.state.db
        async with db.transaction() as conn:
            return await user_service.invite(
                conn,
                organization_id=org.id,
                email="invitee@example.com",
                name="Invitee",
                role="developer",
                now=dash_server.app.state.clock.now(),
            )

    invitation = dash_server.run(invite())
    dash = Dash(dash_server)
    page = dash.get(f"/invitation?token={invitation.token}")
    assert page.status_code == 200
    token = csrf_of(page.text)
    short = dash.post(
        "/invitation",
        {"csrf": token, "token": invitation.token, "password": "short", "confirm": "short"},
    )
    assert short.status_code == 400 and "at least 10" in short.text
    done = dash.post(
        "/invitation",
        {"csrf": token, "token": invitation.token, "password": PASSWORD, "confirm": PASSWORD},
    )
    # Accepted: signed in as the new member at once.
    assert done.status_code == 303
    assert done.headers["location"] == "/dashboard/overview?done=joined"
    assert "HttpOnly" in done.headers["set-cookie"]
    assert "developer" in dash.get("/overview").text
    assert Dash(dash_server).sign_in("invitee@example.com").status_code == 303
    # The token is used up.
    again = dash.post(
        "/invitation",
        {"csrf": token, "token": invitation.token, "password": PASSWORD, "confirm": PASSWORD},
    )
    assert again.status_code == 400


def test_password_reset_link_from_the_mail_backend(dash_server: LiveServer, caplog: object) -> None:
    import logging

    import pytest

    assert isinstance(caplog, pytest.LogCaptureFixture)
    org = make_org(dash_server)
    give_password(dash_server, org.owner_id, "an old password")
    email = owner_email(dash_server, org)
    dash = Dash(dash_server)
    token = csrf_of(dash.get("/password/forgot").text)
    with caplog.at_level(logging.INFO, logger="sentd.mail"):
        answer = dash.post("/password/forgot", {"csrf": token, "email": email})
        unknown = dash.post("/password/forgot", {"csrf": token, "email": "ghost@example.com"})
    assert answer.status_code == unknown.status_code == 303
    assert answer.headers["location"] == unknown.headers["location"]
    [record] = [r for r in caplog.records if getattr(r, "mail", None) == "password_link"]
    url: str = record.password_url  # type: ignore[attr-defined]
    assert getattr(record, "recipient_email", None) == email
    path = url.split("/dashboard", 1)[1]
    form = dash.get(path)
    link_token = path.split("token=", 1)[1]
    set_it = dash.post(
        "/password/set",
        {
            "csrf": csrf_of(form.text),
            "token": link_token,
            "password": "a new password",
            "confirm": "a new password",
        },
    )
    assert set_it.status_code == 303
    assert dash.sign_in(email, "an old password").status_code == 401
    assert dash.sign_in(email, "a new password").status_code == 303


def _membership(server: LiveServer, org: Org, email: str, role: str) -> uuid.UUID:
    """`email` as an active member of `org` too."""

    async def go() -> uuid.UUID:
        async with server.app.state.db.transaction() as conn:
            row = await insert_member(conn, org, role, email)
        user_id: uuid.UUID = row["id"]
        return user_id

    return server.run(go())


def test_one_email_in_several_organizations_switches_with_each_password(
    dash_server: LiveServer,
) -> None:
    first, second, third = make_org(dash_server), make_org(dash_server), make_org(dash_server)
    give_password(dash_server, first.owner_id)
    email = owner_email(dash_server, first)
    in_second = _membership(dash_server, second, email.upper(), "developer")
    give_password(dash_server, in_second, "another long password")
    _membership(dash_server, third, email, "billing")  # no password yet
    dash = signed_in(dash_server, email)  # the oldest membership whose password matches
    page = dash.get("/organizations")
    assert page.status_code == 200
    assert page.text.count("data-membership=") == 3
    assert "current" in page.text and "no password yet" in page.text
    # The right email but the other membership's password: refused, still in the first.
    wrong = dash.post_form(
        "/organizations", "/organizations/switch", {"user_id": str(in_second), "password": PASSWORD}
    )
    assert wrong.status_code == 401 and "Wrong password" in wrong.text
    old = dash.http.cookies["sentd_session"]
    to_test_mode = dash.post_form("/overview", "/mode", {"mode": "test"})
    assert to_test_mode.status_code == 303
    switched = dash.post_form(
        "/organizations",
        "/organizations/switch",
        {"user_id": str(in_second), "password": "another long password"},
    )
    assert switched.status_code == 303
    assert dash.http.cookies["sentd_session"] != old  # a new session; the old one ended
    overview = dash.get("/overview").text
    assert "developer" in overview and "test mode" in overview
    stale = Dash(dash_server)
    stale.http.cookies.set("sentd_session", old, path="/dashboard")
    assert stale.get("/overview").status_code == 303
    # Another email's membership cannot be named.
    other = make_org(dash_server)
    give_password(dash_server, other.owner_id)
    foreign = dash.post_form(
        "/organizations",
        "/organizations/switch",
        {"user_id": str(other.owner_id), "password": PASSWORD},
    )
    assert foreign.status_code == 401
    assert "developer" in dash.get("/overview").text
