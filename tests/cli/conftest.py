"""Fixtures for the CLI tests: a fresh database, the CLI environment, `sentd init`, HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import databases
from tests.cli.support import cli_env, cli_json
from tests.conftest import build_app
from tests.live_server import LiveServer


@pytest.fixture
def db_url(admin_url: str) -> Iterator[str]:
    url = databases.create_database(admin_url, migrate=False)
    yield url
    databases.drop_database(admin_url, url)


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return cli_env(SENTD_DATABASE_URL=db_url, SENTD_DATA_DIR=str(tmp_path / "var"))


@pytest.fixture
def demo(env: dict[str, str]) -> dict[str, Any]:
    """`sentd init --json` on the fresh database."""
    result: dict[str, Any] = cli_json(env, "init", "--json")
    return result


@pytest.fixture
def http(db_url: str, demo: dict[str, Any]) -> Iterator[httpx.Client]:
    # A long cache TTL: a revoked key can only stop working at once through the NOTIFY.
    server = LiveServer(build_app(db_url, auth_cache_ttl_s=300.0)).start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            yield client
    finally:
        server.stop()
