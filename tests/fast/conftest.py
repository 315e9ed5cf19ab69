"""The fast tier: repositories and services on one database connection, no server.

The session's migrated database is the one every test uses (`database_url` in tests/conftest.py:
SENTD_TEST_DATABASE_URL's server, else an embedded PostgreSQL; the same policy as the rest of the
suite). One asyncpg connection is opened for the session; each test runs inside a transaction on
it that is rolled back afterwards (the `db_session` pattern), so tests see an empty world, leave
nothing behind and need no cleanup. Code under test that opens `conn.transaction()` gets a
savepoint. What needs a commit (NOTIFY delivery, the send's final statement with its COMMIT)
stays with the tests that run a server. The one exception is two connections racing on row
locks (the dispatcher's SKIP LOCKED claim, tests/fast/repos/test_dispatch_claim.py): that test
commits its rows on connections of its own (`connect`) and deletes them afterwards.

Inside one transaction `now()` does not move: rows a test makes share their database-made
timestamps (`created_at`), so where order matters a test sets the times itself.

Test functions may be `async def`: they run on the session's event loop, the one the connection
lives on (no plugin needed).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import asyncpg
import orjson
import pytest

from sentd.db.pool import encode_json

T = TypeVar("T")
_runner: asyncio.Runner | None = None


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` on the tier's one event loop."""
    global _runner
    if _runner is None:
        _runner = asyncio.Runner()
    return _runner.run(coroutine)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _runner is not None:
        _runner.close()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    wanted = inspect.signature(pyfuncitem.obj).parameters
    run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in wanted}))
    return True


async def connect(database_url: str) -> Any:
    conn = await asyncpg.connect(database_url)
    for type_name in ("json", "jsonb"):  # as the pool's connections (sentd.db.pool)
        await conn.set_type_codec(
            type_name, encoder=encode_json, decoder=orjson.loads, schema="pg_catalog"
        )
    return conn


@pytest.fixture(scope="session")
def session_conn(database_url: str) -> Iterator[Any]:
    conn = run(connect(database_url))
    yield conn
    run(conn.close())


@pytest.fixture
def db_conn(session_conn: Any) -> Iterator[Any]:
    """The session's connection, inside a transaction rolled back after the test."""
    transaction = session_conn.transaction()
    run(transaction.start())
    try:
        yield session_conn
    finally:
        run(transaction.rollback())
