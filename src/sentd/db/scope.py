"""`Scope`: the tenant a query runs for. Every repository function that reads or writes tenant
rows takes one and filters on both columns, so a test key can never touch live data."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scope:
    customer_id: uuid.UUID
    livemode: bool

    @property
    def mode(self) -> str:
        return "live" if self.livemode else "test"

    def params(self) -> tuple[uuid.UUID, bool]:
        """The `(customer_id, livemode)` pair, for `WHERE customer_id = $1 AND livemode = $2`."""
        return (self.customer_id, self.livemode)
