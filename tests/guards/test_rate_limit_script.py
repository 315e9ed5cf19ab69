"""The one-script count of a check's windows on Redis gives the verdicts the `limits` library
gives window by window in memory: the same admissions, refusals, remaining counts and windows."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

import pytest

from sentd.auth.permissions import Role
from sentd.auth.principal import Principal
from sentd.guards.limiter import LimiterStorage
from sentd.guards.rate_limits import RateClass, RateLimiter, Verdict
from sentd.plans import Limits

LIMITS = Limits(
    requests_per_minute=7,
    requests_burst=3,
    sensitive_per_minute=2,
    sensitive_burst=2,
    messages_per_minute=10,
    messages_per_day=1000,
    contacts=10,
    templates=10,
    webhooks=10,
    profiles=10,
)


def principal() -> Principal:
    org = uuid.uuid4()
    return Principal(
        key_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        role=Role.OWNER,
        livemode=False,
        key_customer_id=org,
        key_customer_kind="organization",
        organization_id=org,
        customer_id=org,
        plan="starter",
        limits=LIMITS,
    )


async def sequence(limiter: RateLimiter, who: Principal) -> list[tuple[object, ...]]:
    """A run of checks through both kinds of window; what each verdict says (without times)."""
    out: list[Verdict] = []
    for _ in range(5):  # the burst of 3 refuses the 4th and 5th within the second
        out.append(await limiter.hit_request(who, RateClass.STANDARD))
    await asyncio.sleep(1.05)
    for _ in range(5):  # 7 a minute: 3 more pass, then the minute refuses
        out.append(await limiter.hit_request(who, RateClass.STANDARD))
    out.append(await limiter.hit_request(who, RateClass.SENSITIVE))
    for size in (4, 5, 2, 11):  # 10 messages a minute; 11 is too large
        out.append(await limiter.hit_messages(who, size))
    return [(v.allowed, v.limit, v.remaining, v.window, v.too_large) for v in out]


@pytest.mark.redis
def test_one_script_decides_like_the_library(redis_url: str) -> None:
    async def go() -> None:
        namespace = f"t{uuid.uuid4().hex[:8]}"
        shared = LimiterStorage(redis_url)
        in_memory = LimiterStorage(None)
        try:
            scripted = RateLimiter(shared, namespace)
            assert scripted._script is not None
            who = principal()
            got = await sequence(scripted, who)
            want = await sequence(RateLimiter(in_memory, namespace), replace(who))
            assert got == want
            assert [g[0] for g in got].count(False) >= 4  # refusals were exercised
            await asyncio.sleep(1.05)
            last = await scripted.hit_request(who, RateClass.STANDARD)  # the minute's 7th
            assert last.allowed and last.remaining == 0
            refused = await scripted.hit_request(who, RateClass.STANDARD)
            assert (refused.window, refused.remaining) == ("minute", 0)
            assert refused.retry_after is not None and 1 <= refused.retry_after <= 60
        finally:
            await shared.close()

    asyncio.run(go())
