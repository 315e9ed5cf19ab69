"""Health probes and the status summary."""

from __future__ import annotations

import httpx

from tests.conftest import OPERATOR
from tests.contract import assert_ok


def test_probes(client: httpx.Client) -> None:
    assert assert_ok(client.get("/healthcheck")) == {"status": "ok"}
    assert assert_ok(client.get("/health/live")) == {"status": "alive"}
    ready = assert_ok(client.get("/health/ready"))
    assert ready["status"] == "ready" and ready["database"]["status"] == "ok"


def test_status_components(client: httpx.Client) -> None:
    data = assert_ok(client.get("/status", headers=OPERATOR))
    assert data["status"] == "ok"
    assert data["components"]["database"]["status"] == "ok"
    assert data["components"]["database"]["embedded"] is False  # tests pass the URL explicitly
    assert isinstance(data["components"]["worker_loops"]["alive"], list)
