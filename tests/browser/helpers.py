"""Pages of the browser tests: only sentd is reachable from them; signing in through the form."""

from __future__ import annotations

from typing import Any

from tests.dashboard.helpers import PASSWORD
from tests.live_server import LiveServer


def new_page(browser: Any, server: LiveServer, refused: list[str]) -> Any:
    """A page of its own context whose requests outside `server` are aborted (listed in
    `refused`)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    def only_sentd(route: Any) -> None:
        if route.request.url.startswith(server.base_url):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", only_sentd)
    return page


def sign_in(page: Any, server: LiveServer, email: str, password: str = PASSWORD) -> None:
    """Sign in with the form and land on the overview."""
    page.goto(f"{server.base_url}/dashboard/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard/overview")
