"""`/docs` renders every operation in Chromium with every request outside sentd refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.live_server import LiveServer


def test_docs_render_with_the_network_blocked(
    server: LiveServer, browser: Any, screenshots: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    refused: list[str] = []

    def only_sentd(route: Any) -> None:
        url = route.request.url
        if url.startswith(server.base_url) or url.startswith("data:"):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    page.route("**/*", only_sentd)
    page.goto(f"{server.base_url}/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    page.screenshot(path=str(screenshots / "api-docs.png"))
    assert page.locator(".opblock").count() > 40
    assert page.locator(".scheme-container .authorize").count() == 1  # the x-api-key scheme
    assert refused == []
    page.close()
