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


async def _init_connection(conn: Any) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=encode_json, decoder=orjson.loads, schema="pg_catalog"
        )


async def _reset_connection(conn: Any) -> None:
    """What a connection needs before it goes back to the pool. sentd keeps no session state on
    pooled connections (no SET, LISTEN, cursors or session advisory locks; LISTEN has its own
    connection), so asyncpg's default reset — a round trip per release — is only needed for a
    transaction left open by a cancelled request."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def create_pool(dsn: str, settings: Settings) -> Any:
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


DATABASE_FAILURES: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    ConnectionError,
    asyncio.TimeoutError,
)


def is_database_failure(exc: BaseException) -> bool:
    """True when `exc` means the database could not do its part (lost, timed out, refused)."""
    return isinstance(exc, DATABASE_FAILURES)
