"""The logging and backoff policy of a job that keeps failing: one traceback per streak."""

from __future__ import annotations

import logging

import pytest

from sentd.failures import FailureStreak


def test_a_streak_logs_one_traceback_then_short_lines_and_backs_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = logging.getLogger("sentd.test.failures")
    streak = FailureStreak(log, "loop x", base_s=0.5, cap_s=5.0)
    with caplog.at_level(logging.INFO, logger=log.name):
        delays = [streak.failed(ConnectionRefusedError(111, "refused")) for _ in range(8)]
        streak.succeeded()
        streak.succeeded()  # no streak: nothing to say
        again = streak.failed(OSError("gone"))

    levels = [record.levelname for record in caplog.records]
    assert levels == ["ERROR"] + ["WARNING"] * 7 + ["INFO", "ERROR"]
    first, *rest = caplog.records[:8]
    assert first.exc_info is not None
    assert all(record.exc_info is None for record in rest)
    assert "8 in a row" in rest[-1].getMessage()
    assert "recovered after 8 failure(s)" in caplog.records[8].getMessage()
    # Doubling from the base (±20 % jitter), never above the cap; a new streak starts over.
    for n, delay in enumerate(delays[:3]):
        assert 0.5 * 2**n * 0.8 <= delay <= 0.5 * 2**n * 1.2
    assert all(delay <= 5.0 for delay in delays)
    assert delays[-1] >= 4.0
    assert 0.4 <= again <= 0.6
