"""Real Chromium (Debian's package) driven by Playwright; screenshots land in artifacts/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, build_app
from tests.live_server import LiveServer

ARTIFACTS = Path(os.environ.get("SENTD_TEST_ARTIFACTS", Path(__file__).parents[2] / "artifacts"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Playwright's sync API runs an event loop in this thread while it is open: it is closed
    after each module, so that the tests after it may run their own loops."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        problem = "Chromium is not installed (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"CI needs {problem}")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def screenshots() -> Path:
    path = ARTIFACTS / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="package")
def busy_server(database_url: str) -> Iterator[LiveServer]:
    """A server with its workers (the simulator takes messages to their final statuses, webhooks
    are sent, failed deliveries retried fast), shared by the browser tests that need them."""
    live = LiveServer(
        build_app(database_url, run_workers=True, webhook_retry_base_s=0.2, webhook_retry_cap_s=0.5)
    ).start()
    yield live
    live.stop()
