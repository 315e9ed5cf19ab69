"""The one backoff schedule of every persisted retry (webhook deliveries, provider submissions,
profile review callbacks, WhatsApp template calls).

Retry number `attempt` (1, 2, …) waits `base_s × 2^(attempt − 1)`, lengthened by a random share
of at most `jitter` (10 % by default) so that retries that failed together do not come back
together, and never longer than `cap_s`. Once the doubling reaches the cap, the wait is the cap
shortened by at most `jitter` instead, so retries at the cap spread out as well. So a documented
schedule "base, doubling, at most cap" holds: a wait is never shorter than its doubled base
(below the cap) and never longer than the cap. A cap below the base makes every wait the cap's.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

DEFAULT_JITTER = 0.1
_MAX_EXPONENT = 60  # 2^60 × any base is past any cap; keeps the float finite


def backoff_s(
    attempt: int,
    *,
    base_s: float,
    cap_s: float,
    jitter: float = DEFAULT_JITTER,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number `attempt` (from 1). `rand` returns a float in [0, 1)."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    if base_s <= 0 or cap_s <= 0 or not 0 <= jitter < 1:
        raise ValueError("need base_s > 0, cap_s > 0 and 0 <= jitter < 1")
    planned = base_s * 2.0 ** min(attempt - 1, _MAX_EXPONENT)
    if planned < cap_s:
        return min(planned * (1 + jitter * rand()), cap_s)
    return cap_s * (1 - jitter * rand())


def backoff(
    attempt: int,
    *,
    base_s: float,
    cap_s: float,
    jitter: float = DEFAULT_JITTER,
    rand: Callable[[], float] = random.random,
) -> timedelta:
    """`backoff_s` as a `timedelta`."""
    return timedelta(
        seconds=backoff_s(attempt, base_s=base_s, cap_s=cap_s, jitter=jitter, rand=rand)
    )
