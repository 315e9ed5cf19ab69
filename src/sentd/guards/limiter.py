"""The `limits` storage of a process: Redis when `SENTD_REDIS_URL` is set (shared by every process),
memory otherwise (per process). The Redis connections are ours, so shutdown closes them.

Every use of Redis goes through `call()`: it is bounded by `SENTD_REDIS_TIMEOUT_MS` and guarded by
a circuit breaker (`breaker.py`), so a frozen or lost Redis costs a request at most that timeout
once, and nothing while the breaker is open. A `BatchedScript` bounds its own calls instead
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
from redis.exceptions import NoScriptError, ResponseError

from sentd.guards.breaker import CircuitBreaker

T = TypeVar("T")


class CountersUnavailable(Exception):
    """The shared counters could not be used; the caller fails open."""


def _limits_uri(redis_url: str) -> str:
    """`redis_url` as the `limits` library names a Redis storage (it only picks the storage
    kind: the connections are the pool's). A Unix socket is `unix://` to redis-py and
    `redis+unix://` to `limits`."""
    if redis_url.startswith("unix://"):
        return "async+redis+" + redis_url
    return "async+" + redis_url


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
            self.storage = RedisStorage(_limits_uri(redis_url), implementation="redispy", **options)
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


# Runs a script (spliced in as `run`'s body) once per run given: ARGV[1] is the number of runs,
# then per run its key count, its argument count and its arguments; KEYS are every run's keys in
# order. Returns per run {1, its result} or {0, its error's message}: an error (raised, or
# returned as `redis.error_reply`) is that run's own, and the runs after it go on.
_EACH_RUN = """
local function run(KEYS, ARGV)
{script}
end
local results, at, key_at = {}, 2, 1
for i = 1, tonumber(ARGV[1]) do
    local keys, args = {}, {}
    local key_count, arg_count = tonumber(ARGV[at]), tonumber(ARGV[at + 1])
    for j = 1, key_count do keys[j] = KEYS[key_at + j - 1] end
    for j = 1, arg_count do args[j] = ARGV[at + 1 + j] end
    key_at, at = key_at + key_count, at + 2 + arg_count
    local ok, result = pcall(run, keys, args)
    if type(result) == 'table' and result.err then
        results[i] = {0, result.err}
    elseif not ok then
        results[i] = {0, tostring(result)}
    else
        results[i] = {1, result}
    end
end
return results
"""


class BatchedScript:
    """A Lua script whose concurrent runs share a round trip: the runs asked while one call is on
    the wire go together in the next, as one call of the script wrapped to run once per run
    (`_EACH_RUN`), in the order asked. Redis runs that call atomically, so a run sees exactly
    what it would alone, the runs before it included. Each caller gets its own result or error.
    A call that finds the script gone (Redis restarted or flushed) loads it and calls again
    (nothing had run); nothing else is retried. One call instead of a pipeline of one command
    per run: redis-py's cost per command was most of a run's time in the API process.

    Each round trip has `timeout_s`. One that fails or times out fails the runs waiting for the
    next too, at the same moment, without sending them: a frozen Redis costs each caller at most
    that timeout. (A run asked while a slow but answering call is on the wire waits for it, then
    for its own: at most twice the timeout.)"""

    def __init__(self, client: redis.asyncio.Redis, source: str, *, timeout_s: float) -> None:
        self._client = client
        self._source = _EACH_RUN.replace("{script}", source)
        self._timeout_s = timeout_s
        self._sha = hashlib.sha1(self._source.encode()).hexdigest()
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
        keys: list[Any] = []
        args: list[Any] = [len(runs)]
        for run_keys, run_args in runs:
            keys += run_keys
            args += (len(run_keys), len(run_args), *run_args)
        try:
            replies = await self._client.evalsha(self._sha, len(keys), *keys, *args)
        except NoScriptError:
            await self._client.script_load(self._source)
            replies = await self._client.evalsha(self._sha, len(keys), *keys, *args)
        return [_outcome(reply) for reply in replies]


def _outcome(reply: list[Any]) -> Any:
    """A run's result, or its error as the ResponseError it would have been alone. (Lua's nil
    ends a table, so a run that returned nothing leaves {1}.)"""
    if reply[0] == 0:
        message = reply[1]
        return ResponseError(message.decode() if isinstance(message, bytes) else str(message))
    return reply[1] if len(reply) > 1 else None
