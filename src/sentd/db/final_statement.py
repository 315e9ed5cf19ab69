"""A transaction's final statement, sent in the same round trip as its COMMIT.

A statement that updates rows every operation of a customer shares (a balance, a counter) holds
their locks until the transaction ends. Sent on its own, the locks are also held while its answer
travels back and waits for the event loop, and while COMMIT travels out: under load that wait is
what concurrent operations queue on. Sent as `<statement>; COMMIT` in one simple query, the locks
are held only while PostgreSQL runs the two.

Such a statement takes no parameters (values are written in as literals, see `literal`) and
returns nothing; it refuses the operation by calling `sentd_refuse('<code>')` (migration 0011),
which raises SQLSTATE `SD001` with the code as its message. PostgreSQL then skips the COMMIT,
and the caller rolls back and asks the statement's `refusal` for the error to answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol

from sentd.errors.exceptions import ApiError

REFUSED = "SD001"


class FinalStatement(Protocol):
    sql: str

    async def refusal(self, conn: Any, code: str) -> ApiError:
        """The error for a refusal with `code`; runs after the rollback, on the same
        connection."""
        ...


def refusal_code(error: BaseException) -> str | None:
    """The code of a `sentd_refuse` refusal, or None for any other error."""
    if getattr(error, "sqlstate", None) == REFUSED:
        return str(getattr(error, "message", "")) or None
    return None


def literal(value: Any) -> str:
    """`value` as an SQL literal. Only the types the final statements use are accepted; strings
    are quoted with doubled quotes (standard_conforming_strings is on since PostgreSQL 9.1)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, uuid.UUID | date):
        return f"'{value}'"
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("an SQL literal cannot hold a NUL character")
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, Sequence):
        return "ARRAY[" + ", ".join(literal(v) for v in value) + "]"
    raise TypeError(f"no SQL literal for {type(value).__name__}")
