"""Test databases: a fresh database per test session (or per test that needs its own), on the
server named by SENTD_TEST_DATABASE_URL or on an embedded PostgreSQL the session starts.

A migrated database is a copy of a template migrated once per set of migrations
(`sentd_tmpl_<digest of the migration files>`): copying takes a fraction of running the
migrations. Building a template, dropping the stale ones and copying all happen under one
advisory lock on the server, so that concurrent sessions (other worktrees included) neither
build twice nor drop a template while it is copied.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from sentd.db import embedded
from sentd.db.migrate import MIGRATIONS, upgrade

TEMPLATE_PREFIX = "sentd_tmpl_"
_TEMPLATES_LOCK = "sentd tests: template databases"


def server_url(tmp_root: Path) -> str:
    """An admin URL on the test server: the external one when configured, else embedded."""
    external = os.environ.get("SENTD_TEST_DATABASE_URL")
    if external:
        return external
    return embedded.start(tmp_root)


def template_name() -> str:
    """The template of the current migrations: named by a digest of their files."""
    digest = hashlib.sha256()
    for path in sorted(MIGRATIONS.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".mako") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(MIGRATIONS)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return TEMPLATE_PREFIX + digest.hexdigest()[:16]


def _ensure_template(conn: psycopg.Connection[object], admin_url: str, template: str) -> None:
    """Build `template` unless it exists, dropping the templates of other migrations (one not
    droppable now is left for a later build). The caller holds the templates lock."""
    names = [
        str(row[0])
        for row in conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE $$" + TEMPLATE_PREFIX + "%$$"
        ).fetchall()
    ]
    if template in names:
        return
    for stale in names:
        with contextlib.suppress(psycopg.errors.ObjectInUse):
            conn.execute(f'DROP DATABASE IF EXISTS "{stale}"')
    building = f"{template}_building"
    conn.execute(f'DROP DATABASE IF EXISTS "{building}"')  # left by a build that was killed
    conn.execute(f'CREATE DATABASE "{building}"')
    upgrade(embedded.with_database(admin_url, building))
    conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{template}"')


def create_database(admin_url: str, *, migrate: bool = True) -> str:
    name = f"sentd_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if migrate:
            template = template_name()
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (_TEMPLATES_LOCK,))
            try:
                _ensure_template(conn, admin_url, template)
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (_TEMPLATES_LOCK,))
        else:
            conn.execute(f'CREATE DATABASE "{name}"')
    return embedded.with_database(admin_url, name)


def drop_database(admin_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
