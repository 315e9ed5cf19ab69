"""`/metrics` of `sentd serve --workers 2`: any process answers for all of them."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx

from tests.api.test_observability import sample
from tests.cli.support import SENTD, free_port, wait_healthy

TOKEN = "operator-token"


def test_one_scrape_counts_the_requests_of_every_process(
    env: dict[str, str], demo: dict[str, Any], tmp_path: Path
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("wb")
    shared = tmp_path / "metrics"
    shared.mkdir()
    serve = subprocess.Popen(
        [SENTD, "serve", "--port", str(port), "--workers", "2", "--no-worker"],
        env=env | {"SENTD_METRICS_TOKEN": TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(shared)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_healthy(base_url, serve)
        with httpx.Client(base_url=base_url, timeout=30) as http:
            for _ in range(30):  # new connections: the kernel spreads them over both processes
                with httpx.Client(base_url=base_url, timeout=30) as fresh:
                    assert fresh.get("/v3/me", headers={"x-api-key": demo["test_key"]}).is_success
            # Both processes counted (one file of counters each), and each scrape sums them.
            children = set(shared.glob("counter_*.db")) - {shared / f"counter_{serve.pid}.db"}
            assert len(children) == 2
            for _ in range(4):
                with httpx.Client(base_url=base_url, timeout=30) as fresh:
                    text = fresh.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"}).text
                counted = sample(
                    text, "sentd_http_requests_total", route="/v3/me", method="GET", status="200"
                )
                assert counted == 30, text
            assert http.get("/metrics").status_code == 401
    finally:
        serve.terminate()
        serve.wait(timeout=30)
        log.close()
