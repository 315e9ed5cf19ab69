"""The one asyncpg pool of a process, and the test for "this failure is the database's"."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import orjson

from sentd.config import Settings

Pool = asyncpg.Pool
Connection = asyncpg.Connection


def encode_json(value: Any) -> str:
    """JSON for json/jsonb parameters: orjson (large sends encode a body per message)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=encode_json, decoder=orjson.loads, schema="pg_catalog"
        )


async def _reset_connection(conn: asyncpg.Connection) -> None:
    """What a connection needs before it goes back to the pool. sentd keeps no session state on
    pooled connections (no SET, LISTEN, cursors or session advisory locks; LISTEN has its own
    connection), so asyncpg's default reset — a round trip per release — is only needed for a
    transaction left open by a cancelled request."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def create_pool(dsn: str, settings: Settings) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        dsn,
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
        init=_init_connection,
        reset=_reset_connection,
        server_settings={
            "application_name": "sentd",
            "statement_timeout": str(settings.db_statement_timeout_ms),
        },
        timeout=settings.db_connect_timeout_s,
    )


# What it looks like when the database cannot be reached or went away: refused or vanished
# sockets (OSError: a stopped server's Unix socket is simply gone), time-outs, asyncpg's
# client-side states (`InternalClientError: cannot switch to state …` while a connection is
# re-established), and the server's own "shutting down / starting up" (class 57P, class 08).
CONNECTION_FAILURES: tuple[type[BaseException], ...] = (
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    OSError,
    asyncio.TimeoutError,
)
DATABASE_FAILURES: tuple[type[BaseException], ...] = (asyncpg.PostgresError, *CONNECTION_FAILURES)


def is_database_failure(exc: BaseException) -> bool:
    """True when `exc` means the database could not do its part (lost, timed out, refused)."""
    return isinstance(exc, DATABASE_FAILURES)


def is_connection_failure(exc: BaseException) -> bool:
    """True when `exc` means the database is unreachable (not that a statement failed)."""
    return isinstance(exc, CONNECTION_FAILURES)


def unreachable_reason(exc: BaseException) -> str:
    """Why the database could not be reached, in words safe to show anyone (no address)."""
    if isinstance(exc, asyncpg.PostgresError):
        return f"the server answered: {exc.args[0] if exc.args else type(exc).__name__}"
    if isinstance(exc, (ConnectionRefusedError, FileNotFoundError)):
        return "connection refused (the server is down or restarting)"
    if isinstance(exc, asyncio.TimeoutError):
        return "no answer in time"
    if isinstance(exc, (asyncpg.InterfaceError, asyncpg.InternalClientError, ConnectionError)):
        return f"the connection was lost ({type(exc).__name__})"
    return type(exc).__name__
