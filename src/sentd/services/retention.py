"""Retention: delete what is older than the operator keeps it, in bounded batches.

`apply_retention()` is the one action behind the janitor loop and `sentd retention run`. Each
batch is its own short transaction, so the janitor never holds locks for long nor grows a huge
transaction, and a pass stops after `max_batches` per rule (the next pass goes on from there).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sentd.config import Settings
from sentd.db.database import Database
from sentd.db.repos import retention


@dataclass(frozen=True, slots=True)
class Policy:
    """How many days each kind of row is kept; 0 keeps it forever."""

    days: dict[str, int]
    batch_size: int = 1000
    max_batches: int = 50

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            days={
                "webhook_attempts": settings.retention_webhook_attempts_days,
                "webhook_deliveries": settings.retention_events_days,
                "events": settings.retention_events_days,
                "message_events": settings.retention_message_events_days,
                "messages": settings.retention_messages_days,
                "early_receipts": settings.retention_early_receipts_days,
            },
            batch_size=settings.retention_batch_size,
        )


async def apply_retention(
    db: Database, policy: Policy, now: datetime, *, dry_run: bool = False
) -> dict[str, int]:
    """Rows deleted (or, with `dry_run`, that would be deleted) per kind, in rule order."""
    report: dict[str, int] = {}
    for name, rule in retention.RULES.items():
        days = policy.days.get(name, 0)
        if days <= 0:
            continue
        cutoff = now - timedelta(days=days)
        if dry_run:
            async with db.connection() as conn:
                report[name] = await retention.count_expired(conn, rule, cutoff)
            continue
        deleted = 0
        for _ in range(policy.max_batches):
            async with db.transaction() as conn:
                ids = await retention.expired_ids(conn, rule, cutoff, policy.batch_size)
                if ids:
                    deleted += await retention.delete(conn, rule, ids)
            if len(ids) < policy.batch_size:
                break
        report[name] = deleted
    return report
