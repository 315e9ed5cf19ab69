"""`FailureStreak`: how a job that repeats (a worker loop, a heartbeat, the LISTEN connection)
waits and logs while its dependency is down.

Policy (see docs/deployment.md, "When PostgreSQL is lost"):

* the first failure of a streak is one ERROR line with the traceback;
* each further failure is one WARNING line without a traceback (the error's one-line summary,
  how many in a row, the next delay);
* the delay before the next try doubles from `base_s` up to `cap_s`, with ±20 % jitter (below
  the cap) so that many processes do not reconnect in lockstep;
* the first success after a streak is one INFO line saying how long it lasted.

So a database that is down for a minute costs each job one traceback and a dozen short lines,
not hundreds of tracebacks.
"""

from __future__ import annotations

import logging
import random
import time


def describe(exc: BaseException) -> str:
    """One line naming the error: its class and message."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class FailureStreak:
    def __init__(
        self, log: logging.Logger, what: str, *, base_s: float, cap_s: float, jitter: float = 0.2
    ) -> None:
        self._log = log
        self._what = what
        self._base_s = base_s
        self._cap_s = max(cap_s, base_s)
        self._jitter = jitter
        self.failures = 0
        self._since = 0.0

    def failed(self, exc: BaseException) -> float:
        """Log this failure by the policy; return how long to wait before the next try."""
        self.failures += 1
        delay: float = self._base_s * 2.0 ** (self.failures - 1)
        delay = min(delay * (1 + self._jitter * (2 * random.random() - 1)), self._cap_s)
        if self.failures == 1:
            self._since = time.monotonic()
            self._log.error(
                "%s failed; retrying with backoff (up to %gs)",
                self._what,
                self._cap_s,
                exc_info=exc,
            )
        else:
            self._log.warning(
                "%s failed again (%d in a row): %s; next try in %.1fs",
                self._what,
                self.failures,
                describe(exc),
                delay,
            )
        return delay

    def succeeded(self) -> None:
        """Call after each success: ends a streak (one INFO line) if there was one."""
        if self.failures:
            self._log.info(
                "%s recovered after %d failure(s) in %.1fs",
                self._what,
                self.failures,
                time.monotonic() - self._since,
            )
            self.failures = 0
