"""A transaction's final statement, sent in the same round trip as its COMMIT.

A statement that updates rows every operation of a customer shares (a balance, a counter) holds
their locks until the transaction ends. Sent on its own, the locks are also held while its answer
travels back and waits for the event loop, and while COMMIT travels out: under load that wait is
what concurrent operations queue on. Sent as `<statement>; COMMIT` in one simple query, the locks
are held only while PostgreSQL runs the two.

A simple query takes no parameters, so a final statement's values are written in as literals by
psycopg's quoter (`literal`), which does not depend on the session's settings. The statement
returns nothing; it refuses the operation by calling `sentd_refuse('<code>')` (migration 0011),
which raises SQLSTATE `SD001` with the code as its message. PostgreSQL then skips the COMMIT,
`finish` rolls back and raises the error the statement's `refusal` gives for that code.

The database layer builds final statements (`db/repos`) and runs them (`finish`); a service
only chooses one (`Unit.commit_with`), so the same domain action runs from a route (whose
`Mutation` is a `Unit`), the CLI or a worker (`transaction`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from psycopg import sql

from sentd.db.types import Connection
from sentd.errors.exceptions import ApiError

if TYPE_CHECKING:
    from sentd.db.database import Database

REFUSED = "SD001"


class FinalStatement(Protocol):
    sql: str

    async def refusal(self, conn: Connection, code: str) -> ApiError:
        """The error for a refusal with `code`; runs after the rollback, on the same
        connection."""
        ...


class Unit(Protocol):
    """A unit of work whose last statement may travel with its COMMIT."""

    def commit_with(self, statement: FinalStatement) -> None: ...


def refusal_code(error: BaseException) -> str | None:
    """The code of a `sentd_refuse` refusal, or None for any other error."""
    if getattr(error, "sqlstate", None) == REFUSED:
        return str(getattr(error, "message", "")) or None
    return None


def literal(value: Any) -> str:
    """`value` as an SQL literal. What psycopg's quoter would write differently by setting goes
    through it (a string holding a backslash is written as an escape string, so the result does
    not depend on standard_conforming_strings); booleans, integers, UUIDs, dates, lists of UUIDs
    and text with neither a quote nor a backslash are written directly (the quoter costs ~5 µs a
    value). A NUL character, which no PostgreSQL text can hold, raises ValueError."""
    kind = type(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if isinstance(value, uuid.UUID):  # asyncpg's UUIDs are a subclass
        return f"'{value}'::uuid"
    if kind is date:
        return f"'{value.isoformat()}'::date"
    if kind is list and value and all(isinstance(v, uuid.UUID) for v in value):
        return "'{" + ",".join(str(v) for v in value) + "}'::uuid[]"
    if kind is str:
        if "\x00" in value:
            raise ValueError("an SQL literal cannot hold a NUL character")
        if "'" not in value and "\\" not in value:
            return f"'{value}'"
    return sql.Literal(value).as_string(None)


async def finish(
    conn: Connection, statement: FinalStatement | None, *, commit: bool = True
) -> None:
    """End the transaction open on `conn`: COMMIT (or ROLLBACK, for sandbox mode), with
    `statement` first in the same round trip. A refusal rolls back and raises its error."""
    ending = "COMMIT" if commit else "ROLLBACK"
    if statement is None:
        await conn.execute(ending)
        return
    try:
        await conn.execute(f"{statement.sql};\n{ending}")
    except Exception as error:
        code = refusal_code(error)
        if code is None:
            raise
        await conn.execute("ROLLBACK")
        raise await statement.refusal(conn, code) from None


class Transaction:
    """A transaction opened by `transaction`: its connection, and the final statement to send
    with its COMMIT."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.final: FinalStatement | None = None

    def commit_with(self, statement: FinalStatement) -> None:
        self.final = statement


@asynccontextmanager
async def transaction(db: Database, *, commit: bool = True) -> AsyncIterator[Transaction]:
    """One transaction with its final statement: committed (or, with `commit=False`, rolled
    back — sandbox mode) when the block ends, rolled back when it raises. What a route's
    `Mutation`, the CLI and workers run an operation in."""
    async with db.connection() as conn:
        await conn.execute("BEGIN")
        unit = Transaction(conn)
        try:
            yield unit
            await finish(conn, unit.final, commit=commit)
        except BaseException:
            if conn.is_in_transaction():
                await conn.execute("ROLLBACK")
            raise
