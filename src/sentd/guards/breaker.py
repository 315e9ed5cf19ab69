"""A circuit breaker for the shared counters (Redis).

Rate limits and the authentication-failure throttle fail open when Redis does not answer. Waiting
for a sick Redis on every request would still make every request slow, so after one failure the
breaker *opens*: for a cool-down the guards do not touch Redis at all. Then one request *probes*
it (the others still pass without it); a success closes the breaker, a failure starts another
cool-down.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from sentd.metrics import REDIS_BREAKER_OPEN

log = logging.getLogger("sentd.redis")


class CircuitBreaker:
    def __init__(self, cooldown_s: float) -> None:
        self._cooldown_s = cooldown_s
        self._open_until: float | None = None  # monotonic; None while closed
        self._opened_at: datetime | None = None
        self._changed_at = datetime.now(UTC)
        self._probing = False
        self._last_error: str | None = None

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def allows(self) -> bool:
        """Whether a call may go to Redis now: always while closed; once the cool-down is over,
        to one probe at a time."""
        if self._open_until is None:
            return True
        if self._probing or time.monotonic() < self._open_until:
            return False
        self._probing = True
        return True

    def succeeded(self) -> None:
        self._probing = False
        if self._opened_at is not None:
            log.warning("Redis answers again: rate limits and the auth throttle are counted")
            self._open_until = self._opened_at = None
            self._changed_at = datetime.now(UTC)
            self._last_error = None
            REDIS_BREAKER_OPEN.set(0)

    def failed(self, exc: BaseException) -> None:
        self._probing = False
        self._last_error = f"{exc.__class__.__name__}: {exc}".rstrip(": ")
        self._open_until = time.monotonic() + self._cooldown_s
        if self._opened_at is None:
            self._opened_at = self._changed_at = datetime.now(UTC)
            REDIS_BREAKER_OPEN.set(1)
            log.warning(
                "Redis failed (%s): rate limits and the auth throttle fail open; next try in %gs",
                self._last_error,
                self._cooldown_s,
            )

    def describe(self) -> dict[str, Any]:
        """For /status: the state, since when, and the error that opened it."""
        return {
            "state": "open" if self.is_open else "closed",
            "since": self._changed_at.isoformat(timespec="milliseconds"),
            "cooldown_s": self._cooldown_s,
            "last_error": self._last_error,
        }
