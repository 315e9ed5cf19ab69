"""Static types for what asyncpg hands the repositories (asyncpg ships no type information).

`Connection` is the part of `asyncpg.Connection` the repositories use; a pooled connection (or
anything with these methods) satisfies it. `Record` is a row as asyncpg returns it: read by
column name or position. Repositories that type their parameter `conn: Connection` get their
statements' calls checked; rows of the hot aggregates are turned into frozen dataclasses where
their readers are (see `repos/webhooks.ClaimedDelivery`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol


class Record(Protocol):
    def __getitem__(self, key: str | int, /) -> Any: ...

    def get(self, key: str, default: Any = None, /) -> Any: ...

    def keys(self) -> Iterator[str]: ...

    def values(self) -> Iterator[Any]: ...

    def items(self) -> Iterator[tuple[str, Any]]: ...

    def __len__(self) -> int: ...


class Connection(Protocol):
    async def fetch(self, query: str, /, *args: Any) -> list[Record]: ...

    async def fetchrow(self, query: str, /, *args: Any) -> Record | None: ...

    async def fetchval(self, query: str, /, *args: Any, column: int = 0) -> Any: ...

    async def execute(self, query: str, /, *args: Any) -> str: ...

    async def executemany(self, command: str, args: Iterable[Sequence[Any]], /) -> None: ...

    def transaction(self) -> AbstractAsyncContextManager[Any]: ...

    def is_in_transaction(self) -> bool: ...
