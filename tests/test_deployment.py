"""The connection budget of compose.yaml, added up from the file and sentd's own arithmetic,
matches what docs/deployment.md promises and fits PostgreSQL's default max_connections."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from sentd.config import Settings
from sentd.db.budget import api_process_connections, worker_process_connections

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_DEFAULT_MAX_CONNECTIONS = 100


def service_settings(env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in list(Settings.model_fields):
        monkeypatch.delenv(f"SENTD_{name.upper()}", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, str(value))
    return Settings()


def option(command: list[str], flag: str, default: int) -> int:
    return int(command[command.index(flag) + 1]) if flag in command else default


def test_compose_connection_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    total = 0
    for name in ("api", "worker"):
        service = services[name]
        settings = service_settings(service["environment"], monkeypatch)
        replicas = service.get("deploy", {}).get("replicas", 1)
        command = service["command"]
        if command[0] == "serve":
            per_process = api_process_connections(settings)
            total += replicas * option(command, "--workers", 1) * per_process
        else:
            assert command[0] == "worker"
            concurrency = option(command, "--concurrency", settings.worker_concurrency)
            worker = settings.model_copy(update={"worker_concurrency": concurrency})
            total += replicas * worker_process_connections(worker)
    assert total <= POSTGRES_DEFAULT_MAX_CONNECTIONS - 5, "leave room for migrate and psql"
    docs = (ROOT / "docs" / "deployment.md").read_text()
    promised = re.search(r"the compose file needs up to (\d+) connections", docs)
    assert promised, "docs/deployment.md no longer states the compose file's budget"
    assert int(promised.group(1)) == total


def test_every_long_running_service_has_a_health_check() -> None:
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    worker_check = services["worker"]["healthcheck"]
    assert worker_check["test"] == ["CMD", "sentd", "worker-health"]
    assert "disable" not in services["api"].get("healthcheck", {})  # the image's HEALTHCHECK
