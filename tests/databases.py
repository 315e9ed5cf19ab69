"""Test databases: a fresh database per test session (or per test that needs its own), on the
server named by SENTD_TEST_DATABASE_URL or on an embedded PostgreSQL the session starts."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from sentd.db import embedded
from sentd.db.migrate import upgrade


def server_url(tmp_root: Path) -> str:
    """An admin URL on the test server: the external one when configured, else embedded."""
    external = os.environ.get("SENTD_TEST_DATABASE_URL")
    if external:
        return external
    return embedded.start(tmp_root)


def create_database(admin_url: str, *, migrate: bool = True) -> str:
    name = f"sentd_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = embedded.with_database(admin_url, name)
    if migrate:
        upgrade(url)
    return url


def drop_database(admin_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
