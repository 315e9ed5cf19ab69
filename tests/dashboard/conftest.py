"""The dashboard's tests run against a server with its worker loops (messages get delivered,
webhooks get sent); deliveries retry fast."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import build_app
from tests.dashboard.helpers import Dash
from tests.live_server import LiveServer


@pytest.fixture(scope="package")
def dash_server(database_url: str) -> Iterator[LiveServer]:
    live = LiveServer(
        build_app(
            database_url,
            run_workers=True,
            webhook_retry_base_s=0.2,
            webhook_retry_cap_s=0.5,
            dashboard_signin_failures=3,
        )
    ).start()
    yield live
    live.stop()


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while Dash.opened:
        Dash.opened.pop().close()
