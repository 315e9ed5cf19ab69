"""A database named by its Unix socket (`postgresql://user@%2Fsocket%2Fdir:port/db`, how a
co-located PostgreSQL is reached without TCP): the API and its listener connect through it and a
send is committed."""

from __future__ import annotations

import os
from urllib.parse import quote, urlsplit

import httpx
import psycopg
import pytest

from tests.conftest import IN_CI, build_app
from tests.contract import assert_ok
from tests.factories import make_org
from tests.live_server import LiveServer


def _socket_url(database_url: str) -> str:
    """`database_url` with its host replaced by the server's own socket directory."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SHOW unix_socket_directories").fetchone()
    directory = next((d.strip() for d in (row[0] if row else "").split(",") if d.strip()), None)
    if directory is None or not os.path.isdir(directory):
        reason = "the test PostgreSQL listens on no Unix socket this process can reach"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    parts = urlsplit(database_url)
    user = f"{parts.username}@" if parts.username else ""
    return f"postgresql://{user}{quote(directory, safe='')}:{parts.port or 5432}{parts.path}"


def test_the_api_runs_on_a_database_named_by_its_socket(database_url: str) -> None:
    url = _socket_url(database_url)
    server = LiveServer(build_app(url)).start()
    try:
        with httpx.Client(base_url=server.base_url) as client:
            assert_ok(client.get("/health/ready"))
            org = make_org(server)
            sent = assert_ok(
                client.post(
                    "/v3/messages",
                    headers={"x-api-key": org.test_key},
                    json={"to": ["+14155550123"], "text": "over a socket"},
                ),
                202,
            )
        message_id = sent["recipients"][0]["message_id"]
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT status FROM messages WHERE id = %s", (message_id,))
            assert row.fetchone() is not None
    finally:
        server.stop()
