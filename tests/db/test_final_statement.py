"""`literal` (psycopg's quoter): the values a final statement writes in cannot break out of
their literal, whatever the session's settings; a refusal skips the COMMIT."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import asyncpg
import psycopg
import pytest

from sentd.db.final_statement import literal, refusal_code


def test_literals_of_each_type(database_url: str) -> None:
    some = uuid.UUID("12345678-1234-5678-1234-567812345678")
    values: list[object] = [None, True, False, -42, 2**40, some, date(2026, 11, 27), [some, some]]
    with psycopg.connect(database_url) as conn:
        for value in values:
            assert conn.execute(f"SELECT {literal(value)}").fetchone() == (value,)
    with pytest.raises(ValueError):
        literal("a\x00b")


def test_uuids_read_from_asyncpg_are_written_as_uuids(database_url: str) -> None:
    async def read() -> list[object]:
        conn = await asyncpg.connect(database_url)
        try:
            row = await conn.fetchrow(
                "SELECT gen_random_uuid() AS one, ARRAY[gen_random_uuid()] AS many"
            )
            return [row["one"], row["many"]]
        finally:
            await conn.close()

    one, many = asyncio.run(read())
    assert type(one) is not uuid.UUID  # asyncpg's own subclass
    assert literal(one) == f"'{one}'::uuid"
    assert literal(many) == f"'{{{many[0]}}}'::uuid[]"


@pytest.mark.parametrize(
    "text", ["plain", "", "it's", "'; DROP TABLE x; --", "\\'", "a\\b", "$$", "é ☃"]
)
@pytest.mark.parametrize("conforming", ["on", "off"])
def test_a_string_reads_back_as_itself(database_url: str, text: str, conforming: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute(f"SET standard_conforming_strings = {conforming}")
        assert conn.execute(f"SELECT {literal(text)}::text").fetchone() == (text,)


def test_a_refusal_skips_the_commit_and_names_its_code(database_url: str) -> None:
    async def go() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute("CREATE TEMP TABLE t (n int)")
            await conn.execute("BEGIN")
            await conn.execute("INSERT INTO t VALUES (1)")
            with pytest.raises(asyncpg.PostgresError) as raised:
                await conn.execute("SELECT sentd_refuse('BUSINESS_008');\nCOMMIT")
            assert refusal_code(raised.value) == "BUSINESS_008"
            assert refusal_code(ValueError("BUSINESS_008")) is None
            await conn.execute("ROLLBACK")
            assert await conn.fetchval("SELECT count(*) FROM t") == 0
        finally:
            await conn.close()

    asyncio.run(go())
