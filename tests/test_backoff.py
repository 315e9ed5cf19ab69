"""The one backoff schedule of persisted retries: base, doubling, a little longer at random,
never past the cap."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta

import pytest

from sentd.backoff import backoff, backoff_s


def test_doubles_from_the_base_without_randomness() -> None:
    waits = [backoff_s(n, base_s=60, cap_s=3600, rand=lambda: 0.0) for n in range(1, 8)]
    assert waits == [60, 120, 240, 480, 960, 1920, 3600]


def test_jitter_only_lengthens_below_the_cap() -> None:
    for n in range(1, 6):
        planned = 5 * 2 ** (n - 1)
        assert backoff_s(n, base_s=5, cap_s=300, rand=lambda: 0.999999) == pytest.approx(
            planned * 1.1, rel=1e-5
        )
        assert backoff_s(n, base_s=5, cap_s=300, jitter=0.25, rand=lambda: 0.5) == pytest.approx(
            planned * 1.125
        )


def test_never_past_the_cap_and_spread_below_it_once_reached() -> None:
    # Just below the cap, lengthening stops at the cap.
    assert backoff_s(3, base_s=2, cap_s=8.5, rand=lambda: 0.9) == 8.5
    # At the cap, the wait is shortened instead, by at most the jitter.
    assert backoff_s(20, base_s=2, cap_s=300, rand=lambda: 0.0) == 300
    assert backoff_s(20, base_s=2, cap_s=300, rand=lambda: 0.5) == pytest.approx(285)
    assert backoff_s(20, base_s=2, cap_s=300, rand=lambda: 0.999999) > 270


def test_bounds_hold_for_random_draws() -> None:
    rng = random.Random(15)
    for base, cap, jitter in itertools.product((0.05, 2.0, 60.0), (2.0, 300.0, 3600.0), (0.1, 0.5)):
        if cap < base:
            continue
        for n in range(1, 40):
            wait = backoff_s(n, base_s=base, cap_s=cap, jitter=jitter, rand=rng.random)
            planned = base * 2 ** (n - 1)
            assert wait <= cap
            assert wait >= (planned if planned < cap else cap * (1 - jitter))


def test_retries_that_failed_together_spread_out() -> None:
    waits = {round(backoff_s(3, base_s=60, cap_s=3600), 6) for _ in range(50)}
    assert len(waits) > 40
    assert all(240 <= w <= 264 for w in waits)


def test_huge_attempt_numbers_stay_finite() -> None:
    assert backoff_s(100_000, base_s=1, cap_s=60, rand=lambda: 0.0) == 60


def test_a_cap_below_the_base_wins() -> None:
    assert backoff_s(1, base_s=10, cap_s=5, rand=lambda: 0.0) == 5


def test_timedelta_form() -> None:
    assert backoff(2, base_s=2, cap_s=300, rand=lambda: 0.0) == timedelta(seconds=4)


@pytest.mark.parametrize(
    ("attempt", "base", "cap", "jitter"),
    [(0, 1, 10, 0.1), (1, 0, 10, 0.1), (1, 1, 0, 0.1), (1, 1, 10, 1.0), (1, 1, 10, -0.1)],
)
def test_refuses_nonsense(attempt: int, base: float, cap: float, jitter: float) -> None:
    with pytest.raises(ValueError):
        backoff_s(attempt, base_s=base, cap_s=cap, jitter=jitter)
