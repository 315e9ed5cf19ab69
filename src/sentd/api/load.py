"""`InFlight`: the per-process ceiling on `/v3` requests being worked on.

A request enters it only once it is authenticated and its whole body has arrived (see
`sentd.api.intake`), so clients that stall or send nothing cannot fill it. `/health/ready`
reports the process unready while it is full.
"""

from __future__ import annotations


class InFlight:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    def try_enter(self) -> bool:
        """Take a place; False (and nothing taken) when all `limit` places are taken."""
        if self.count >= self.limit:
            return False
        self.count += 1
        return True

    def leave(self) -> None:
        self.count -= 1

    @property
    def saturated(self) -> bool:
        return self.count >= self.limit
