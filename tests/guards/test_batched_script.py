"""`BatchedScript` on a real Redis: runs asked at once share a round trip, each with its own
result or error, in the order asked; a script Redis lost is loaded again. Against a server that
never answers: the round trip's timeout fails its runs and the ones waiting behind it, which are
never sent."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

import pytest
import redis.asyncio
from redis.exceptions import ResponseError

from sentd.guards.limiter import BatchedScript

# Adds ARGV[1] to KEYS[1] and returns the new total; refuses the argument "fail".
ADD = """
if ARGV[1] == 'fail' then return redis.error_reply('refused') end
return redis.call('INCRBY', KEYS[1], ARGV[1])
"""

pytestmark = pytest.mark.redis


def test_replies_are_parsed_by_hiredis() -> None:
    """hiredis is a dependency: redis-py parses the scripts' replies in C, not in Python (about
    a fifth of a rate-limit run's CPU)."""
    from redis.utils import HIREDIS_AVAILABLE

    assert HIREDIS_AVAILABLE


class CountingRedis(redis.asyncio.Redis):
    """A client that counts the scripts it runs (each one round trip)."""

    calls = 0

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        if args[0] == "EVALSHA":
            self.calls += 1
        return await super().execute_command(*args, **options)


def run(redis_url: str, test: Any) -> None:
    async def go() -> None:
        client = CountingRedis.from_url(redis_url)
        try:
            await test(client, f"batched-{uuid.uuid4().hex}")
        finally:
            await client.aclose()

    asyncio.run(go())


def test_runs_asked_at_once_share_a_round_trip_each_with_its_result(redis_url: str) -> None:
    async def test(client: CountingRedis, key: str) -> None:
        script = BatchedScript(client, ADD, timeout_s=10)
        await script(keys=[key], args=[0])  # loads the script
        client.calls = 0
        totals = await asyncio.gather(*(script(keys=[key], args=[n]) for n in range(1, 51)))
        # In the order asked: each run sees the ones before it.
        assert totals == [n * (n + 1) // 2 for n in range(1, 51)]
        assert client.calls == 1
        assert await script(keys=[key], args=[1]) == 1276
        assert client.calls == 2

    run(redis_url, test)


def test_an_error_belongs_to_its_own_run_only(redis_url: str) -> None:
    async def test(client: CountingRedis, key: str) -> None:
        script = BatchedScript(client, ADD, timeout_s=10)
        outcomes = await asyncio.gather(
            script(keys=[key], args=[2]),
            script(keys=[key], args=["fail"]),
            script(keys=[key], args=[3]),
            return_exceptions=True,
        )
        assert outcomes[0] == 2 and outcomes[2] == 5
        assert isinstance(outcomes[1], ResponseError) and "refused" in str(outcomes[1])

    run(redis_url, test)


# Echoes what a run was given; raises from Redis with "raise", returns nothing with "nil".
ECHO = """
if ARGV[1] == 'raise' then return redis.call('NO-SUCH-COMMAND') end
if ARGV[1] == 'nil' then return nil end
return {#KEYS, KEYS[#KEYS] or '', #ARGV, ARGV[#ARGV] or ''}
"""


def test_runs_of_one_call_keep_their_own_keys_arguments_and_errors(redis_url: str) -> None:
    async def test(client: CountingRedis, key: str) -> None:
        script = BatchedScript(client, ECHO, timeout_s=10)
        await script(keys=[], args=[])  # loads the script
        client.calls = 0
        outcomes = await asyncio.gather(
            script(keys=[], args=[]),
            script(keys=[f"{key}:a", f"{key}:b"], args=["x"]),
            script(keys=[f"{key}:c"], args=["raise"]),
            script(keys=[], args=["nil", "y"]),
            script(keys=[f"{key}:d"], args=["p", "q", "r"]),
            return_exceptions=True,
        )
        assert client.calls == 1
        assert outcomes[0] == [0, b"", 0, b""]
        assert outcomes[1] == [2, f"{key}:b".encode(), 1, b"x"]
        assert isinstance(outcomes[2], ResponseError) and "Unknown Redis command" in str(
            outcomes[2]
        )
        assert outcomes[3] is None
        assert outcomes[4] == [1, f"{key}:d".encode(), 3, b"r"]

    run(redis_url, test)


def test_a_script_redis_lost_is_loaded_again_and_counted_once(redis_url: str) -> None:
    async def test(client: CountingRedis, key: str) -> None:
        script = BatchedScript(client, ADD, timeout_s=10)
        assert await script(keys=[key], args=[1]) == 1
        await client.script_flush()
        totals = await asyncio.gather(*(script(keys=[key], args=[1]) for _ in range(5)))
        assert totals == [2, 3, 4, 5, 6]
        assert int(await client.get(key)) == 6

    run(redis_url, test)


def test_a_caller_that_stops_waiting_leaves_the_others_their_results(redis_url: str) -> None:
    async def test(client: CountingRedis, key: str) -> None:
        script = BatchedScript(client, ADD, timeout_s=10)
        impatient = asyncio.create_task(script(keys=[key], args=[10]))
        patient = asyncio.create_task(script(keys=[key], args=[1]))
        await asyncio.sleep(0)  # both are queued
        impatient.cancel()
        assert await patient == 11  # the cancelled run was already on its way
        with pytest.raises(asyncio.CancelledError):
            await impatient
        assert await script(keys=[key], args=[1]) == 12

    run(redis_url, test)


def test_a_round_trip_that_times_out_fails_the_runs_waiting_behind_it_unsent() -> None:
    received: list[bytes] = []
    writers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answers the client's greeting (CLIENT SETINFO), then nothing."""
        writers.append(writer)
        while chunk := await reader.read(65536):
            received.append(chunk)
            writer.write(b"+OK\r\n" * chunk.count(b"SETINFO"))

    async def go() -> None:
        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        # RESP2: the client's only greeting is CLIENT SETINFO, which the server answers.
        client = redis.asyncio.Redis(host="127.0.0.1", port=port, socket_timeout=60, protocol=2)
        script = BatchedScript(client, ADD, timeout_s=3)
        try:
            started = time.monotonic()
            first = asyncio.create_task(script(keys=["k"], args=[1]))
            deadline = time.monotonic() + 20
            while b"EVALSHA" not in b"".join(received):  # the first run is on the wire
                assert time.monotonic() < deadline, "the call was not sent"
                await asyncio.sleep(0.01)
            behind = [asyncio.create_task(script(keys=["k"], args=[n])) for n in range(3)]
            outcomes = await asyncio.gather(first, *behind, return_exceptions=True)
            assert all(isinstance(o, TimeoutError) for o in outcomes), outcomes
            assert time.monotonic() - started < 30  # the round trip's timeout, not the socket's
            assert b"".join(received).count(b"EVALSHA") == 1  # the runs behind it never left
        finally:
            await client.aclose()
            server.close()
            for writer in writers:
                writer.close()
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()

    asyncio.run(go())
