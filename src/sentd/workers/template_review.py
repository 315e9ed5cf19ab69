"""Template review: the loops that move templates from PENDING to APPROVED or REJECTED."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentd.workers.runner import WorkerContext


async def decide_due_reviews(context: WorkerContext) -> None:
    """Filled in by the templates subsystem."""
