"""`BatchedScript` on a real Redis: runs asked at once share a pipeline, each with its own
result or error, in the order asked; a script Redis lost is loaded again."""

from __future__ import annotations

import asyncio
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


class CountingRedis(redis.asyncio.Redis):
    """A client that counts the pipelines it opens (each one round trip)."""

    pipelines = 0

    def pipeline(self, *args: Any, **kwargs: Any) -> Any:
        self.pipelines += 1
        return super().pipeline(*args, **kwargs)


def run(redis_url: str, test: Any) -> None:
    async def go() -> None:
        client = CountingRedis.from_url(redis_url)
        try:
            await test(client, f"batched-{uuid.uuid4().hex}")
        finally:
            await client.aclose()

    asyncio.run(go())


def test_runs_asked_at_once_share_a_pipeline_each_with_its_result(redis_url: str) -> None:
    async def test(client: CountingRedis, key: str) -> None:
        script = BatchedScript(client, ADD)
        await client.script_load(ADD)
        totals = await asyncio.gather(*(script(keys=[key], args=[n]) for n in range(1, 51)))
        # In the order asked: each run sees the ones before it.
        assert totals == [n * (n + 1) // 2 for n in range(1, 51)]
        assert client.pipelines == 1
        assert await script(keys=[key], args=[1]) == 1276
        assert client.pipelines == 2

    run(redis_url, test)


def test_an_error_belongs_to_its_own_run_only(redis_url: str) -> None:
    async def test(client: CountingRedis, key: str) -> None:
        script = BatchedScript(client, ADD)
        outcomes = await asyncio.gather(
            script(keys=[key], args=[2]),
            script(keys=[key], args=["fail"]),
            script(keys=[key], args=[3]),
            return_exceptions=True,
        )
        assert outcomes[0] == 2 and outcomes[2] == 5
        assert isinstance(outcomes[1], ResponseError) and "refused" in str(outcomes[1])

    run(redis_url, test)


def test_a_script_redis_lost_is_loaded_again_and_counted_once(redis_url: str) -> None:
    async def test(client: CountingRedis, key: str) -> None:
        script = BatchedScript(client, ADD)
        assert await script(keys=[key], args=[1]) == 1
        await client.script_flush()
        totals = await asyncio.gather(*(script(keys=[key], args=[1]) for _ in range(5)))
        assert totals == [2, 3, 4, 5, 6]
        assert int(await client.get(key)) == 6

    run(redis_url, test)


def test_a_caller_that_stops_waiting_leaves_the_others_their_results(redis_url: str) -> None:
    async def test(client: CountingRedis, key: str) -> None:
        script = BatchedScript(client, ADD)
        impatient = asyncio.create_task(script(keys=[key], args=[10]))
        patient = asyncio.create_task(script(keys=[key], args=[1]))
        await asyncio.sleep(0)  # both are queued
        impatient.cancel()
        assert await patient == 11  # the cancelled run was already on its way
        with pytest.raises(asyncio.CancelledError):
            await impatient
        assert await script(keys=[key], args=[1]) == 12

    run(redis_url, test)
