"""Dashboard test helpers: users with passwords, and a signed-in httpx client."""

from __future__ import annotations

import re
import uuid
from typing import Any, ClassVar

import httpx

from sentd.auth.passwords import hash_password
from sentd.db.database import Database
from sentd.db.repos import dashboard, users
from tests.factories import Org, insert_member
from tests.live_server import LiveServer

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _db(server: LiveServer) -> Database:
    db: Database = server.app.state.db
    return db


def give_password(server: LiveServer, user_id: uuid.UUID, password: str = PASSWORD) -> None:
    async def go() -> None:
        hashed = await hash_password(password)
        async with _db(server).transaction() as conn:
            await dashboard.set_password(conn, user_id, hashed)

    server.run(go())


def owner_email(server: LiveServer, org: Org) -> str:
    async def go() -> str:
        async with _db(server).connection() as conn:
            row = await users.get_owner(conn, org.id)
        return str(row["email"])

    return server.run(go())


def add_member(server: LiveServer, org: Org, role: str) -> tuple[uuid.UUID, str]:
    """An active member with `role` and the test password."""

    async def go() -> tuple[uuid.UUID, str]:
        async with _db(server).transaction() as conn:
            row = await insert_member(conn, org, role)
        return row["id"], str(row["email"])

    user_id, email = server.run(go())
    give_password(server, user_id)
    return user_id, email


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


class Dash:
    """A browser-like client of one server: cookies kept, redirects not followed."""

    opened: ClassVar[list[Dash]] = []  # closed after each test (conftest)

    def __init__(self, server: LiveServer) -> None:
        self.http = httpx.Client(base_url=server.base_url, timeout=30, follow_redirects=False)
        Dash.opened.append(self)

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(f"/dashboard{path}", **kwargs)

    def post(self, path: str, data: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post(f"/dashboard{path}", data=data or {})

    def post_form(self, page: str, path: str, data: dict[str, str] | None = None) -> httpx.Response:
        """POST `path` with the CSRF token read from `page` (as a browser would submit it)."""
        token = csrf_of(self.get(page).text)
        return self.post(path, {"csrf": token, **(data or {})})

    def sign_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        token = csrf_of(self.get("/sign-in").text)
        return self.post("/sign-in", {"csrf": token, "email": email, "password": password})


def signed_in(server: LiveServer, email: str, password: str = PASSWORD) -> Dash:
    dash = Dash(server)
    response = dash.sign_in(email, password)
    assert response.status_code == 303, response.text
    return dash
