"""The `limits` storage of a process: Redis when `SENTD_REDIS_URL` is set (shared by every process),
memory otherwise (per process). The Redis connections are ours, so shutdown closes them.

Every use of Redis goes through `call()`: it is bounded by `SENTD_REDIS_TIMEOUT_MS` and guarded by
a circuit breaker (`breaker.py`), so a frozen or lost Redis costs a request at most that timeout
once, and nothing while the breaker is open. A `BatchedScript` bounds its own pipelines instead
(one deadline per round trip rather than one per run: a timer per run was ~2 % of a send's
time), so its runs are called with `bounded=True`.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import redis.asyncio
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from redis.exceptions import NoScriptError

from sentd.guards.breaker import CircuitBreaker

T = TypeVar("T")


class CountersUnavailable(Exception):
    """The shared counters could not be used; the caller fails open."""


class LimiterStorage:
    def __init__(
        self, redis_url: str | None, *, timeout_s: float = 0.2, cooldown_s: float = 5.0
    ) -> None:
        self._pool: redis.asyncio.ConnectionPool | None = None
        self._timeout_s = timeout_s
        self.breaker = CircuitBreaker(cooldown_s)
        self.storage: Storage
        if redis_url:
            self._pool = redis.asyncio.ConnectionPool.from_url(
                redis_url,
                socket_timeout=timeout_s,
                socket_connect_timeout=timeout_s,
            )
            options: dict[str, Any] = {"connection_pool": self._pool}
            self.storage = RedisStorage("async+" + redis_url, implementation="redispy", **options)
        else:
            self.storage = MemoryStorage()

    @property
    def shared(self) -> bool:
        return self._pool is not None

    def script(self, source: str) -> BatchedScript | None:
        """A Lua script on the shared counters (run through `call`), or None without Redis."""
        if self._pool is None:
            return None
        client = redis.asyncio.Redis(connection_pool=self._pool)
        return BatchedScript(client, source, timeout_s=self._timeout_s)

    def key(self, key: str) -> str:
        """`key` as the `limits` library stores it in Redis (its prefix)."""
        prefixed: str = self.storage.bridge.prefixed_key(key)  # type: ignore[attr-defined]
        return prefixed

    async def call(self, operation: Callable[[], Awaitable[T]], *, bounded: bool = False) -> T:
        """Run `operation` (a few counter commands) within the timeout — its own when it is
        `bounded` (the runs of a `BatchedScript` from `script`); CountersUnavailable when it
        fails, times out, or the breaker is open."""
        if self._pool is None:
            return await operation()
        if not self.breaker.allows():
            raise CountersUnavailable("Redis circuit breaker is open")
        try:
            if bounded:
                result = await operation()
            else:
                async with asyncio.timeout(self._timeout_s):
                    result = await operation()
        except Exception as exc:
            self.breaker.failed(exc)
            raise CountersUnavailable(str(exc) or exc.__class__.__name__) from exc
        self.breaker.succeeded()
        return result

    async def reachable(self) -> bool | None:
        """Whether the shared counters answer; None when they live in this process's memory.
        Asked through the breaker: during a cool-down Redis is not asked (it failed moments
        ago); after it, this is a probe like any other."""
        pool = self._pool
        if pool is None:
            return None
        try:
            return bool(await self.call(lambda: redis.asyncio.Redis(connection_pool=pool).ping()))
        except CountersUnavailable:
            return False

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()


class BatchedScript:
    """A Lua script whose concurrent runs share a round trip: the runs asked while one pipeline
    is on the wire go together in the next (`EVALSHA` each, in the order asked; Redis runs each
    script atomically, so a run sees exactly what it would alone). Each caller gets its own
    result or error. A run that finds the script gone (Redis restarted or flushed) loads it and
    runs again; nothing else is retried.

    Each round trip has `timeout_s`. One that fails or times out fails the runs waiting for the
    next too, at the same moment, without sending them: a frozen Redis costs each caller at most
    that timeout. (A run asked while a slow but answering pipeline is on the wire waits for it,
    then for its own: at most twice the timeout.)"""

    def __init__(self, client: redis.asyncio.Redis, source: str, *, timeout_s: float) -> None:
        self._client = client
        self._source = source
        self._timeout_s = timeout_s
        self._sha = hashlib.sha1(source.encode()).hexdigest()
        self._waiting: list[tuple[Sequence[Any], Sequence[Any], asyncio.Future[Any]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def __call__(self, *, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        result: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((keys, args, result))
        if self._sender is None:
            self._sender = asyncio.create_task(self._send())
        return await result

    async def _send(self) -> None:
        try:
            while self._waiting:
                runs, self._waiting = self._waiting, []
                try:
                    async with asyncio.timeout(self._timeout_s):
                        outcomes = await self._run([(keys, args) for keys, args, _ in runs])
                except Exception as exc:
                    runs, self._waiting = runs + self._waiting, []
                    outcomes = [exc] * len(runs)
                for (_, _, result), outcome in zip(runs, outcomes, strict=True):
                    if result.done():  # its caller stopped waiting (its deadline)
                        continue
                    if isinstance(outcome, Exception):
                        result.set_exception(outcome)
                    else:
                        result.set_result(outcome)
        finally:
            self._sender = None

    async def _run(self, runs: list[tuple[Sequence[Any], Sequence[Any]]]) -> list[Any]:
        outcomes = await self._pipeline(runs)
        missing = [n for n, outcome in enumerate(outcomes) if isinstance(outcome, NoScriptError)]
        if missing:
            await self._client.script_load(self._source)
            again = await self._pipeline([runs[n] for n in missing])
            for n, outcome in zip(missing, again, strict=True):
                outcomes[n] = outcome
        return outcomes

    async def _pipeline(self, runs: list[tuple[Sequence[Any], Sequence[Any]]]) -> list[Any]:
        async with self._client.pipeline(transaction=False) as pipe:
            for keys, args in runs:
                pipe.evalsha(self._sha, len(keys), *keys, *args)
            outcomes: list[Any] = await pipe.execute(raise_on_error=False)
        return outcomes
