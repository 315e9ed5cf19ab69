"""Session fixtures: a migrated test database, a live sentd server, HTTP clients."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import hypothesis
import pytest
from fastapi import FastAPI

from sentd.app import create_app
from sentd.config import Settings
from tests import databases
from tests.live_server import LiveServer
from tests.probe_routes import router as probe_router

IN_CI = os.environ.get("CI") == "true"

# Property tests judge behaviour, never speed: on a loaded 2-core CI machine Hypothesis's
# per-example deadline and its "too slow" health checks would fail for time alone.
hypothesis.settings.register_profile(
    "sentd",
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)
hypothesis.settings.load_profile("sentd")
STATUS_TOKEN = "test-status-token"  # the test app's SENTD_STATUS_TOKEN
OPERATOR = {"authorization": f"Bearer {STATUS_TOKEN}"}  # headers that unlock /status details


@pytest.fixture(scope="session")
def admin_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return databases.server_url(tmp_path_factory.mktemp("embedded"))


@pytest.fixture(scope="session")
def database_url(admin_url: str) -> Iterator[str]:
    url = databases.create_database(admin_url)
    yield url
    databases.drop_database(admin_url, url)


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "auth_failure_limit": "10000/minute",
        "limits_namespace": f"sentd-test-{uuid.uuid4().hex[:8]}",
        "redis_url": None,
        "db_pool_min_size": 1,
        "db_pool_max_size": 5,
        "webhook_allow_private": True,  # test receivers listen on loopback
        "template_review_delay_s": 0.2,
        # Live keys of the test app send through the simulator, set explicitly as an operator
        # would for a demo (the default is no live provider: tests/messages/test_live_providers.py).
        "sms_provider": "simulator",
        "mms_provider": "simulator",
        "whatsapp_provider": "simulator",
        "rcs_provider": "simulator",
        "voice_provider": "simulator",
        "status_token": STATUS_TOKEN,
    }
    values.update(overrides)
    return Settings.model_validate(values)


def build_app(database_url: str, *, run_workers: bool = False, **overrides: object) -> FastAPI:
    settings = make_settings(database_url, **overrides)
    app = create_app(settings, database_url=database_url, run_workers=run_workers)
    app.include_router(probe_router)
    return app


@pytest.fixture(scope="session")
def server(database_url: str) -> Iterator[LiveServer]:
    live = LiveServer(build_app(database_url)).start()
    yield live
    live.stop()


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        yield http


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis of SENTD_TEST_REDIS_URL: required in CI, skipped with a reason elsewhere."""
    url = os.environ.get("SENTD_TEST_REDIS_URL")
    problem = None
    if not url:
        problem = "SENTD_TEST_REDIS_URL is not set"
    else:
        import redis

        try:
            redis.Redis.from_url(url).ping()
        except redis.RedisError as exc:
            problem = f"Redis at {url} is unreachable: {exc}"
    if problem:
        if IN_CI:
            pytest.fail(f"CI needs Redis: {problem}")
        pytest.skip(problem)
    assert url is not None
    return url


def pytest_configure(config: pytest.Config) -> None:
    Path(config.rootpath / "var").mkdir(exist_ok=True)
