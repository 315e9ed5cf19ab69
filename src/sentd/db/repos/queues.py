"""The work waiting for the worker loops: how much is due now, and how long the oldest waited."""

from __future__ import annotations

from sentd.db.types import Connection

# One row per queue: name, rows due now, seconds the oldest due row has waited (0 when empty).
QUEUES_SQL = """
SELECT 'messages_due' AS queue, count(*) AS depth,
       coalesce(extract(epoch FROM now() - min(due_at)), 0) AS oldest_age_s
  FROM messages WHERE status IN ('QUEUED', 'ACCEPTED') AND due_at <= now()
UNION ALL
SELECT 'messages_scheduled_due', count(*),
       coalesce(extract(epoch FROM now() - min(scheduled_at)), 0)
  FROM messages WHERE status = 'SCHEDULED' AND scheduled_at <= now()
UNION ALL
SELECT 'webhook_deliveries_due', count(*),
       coalesce(extract(epoch FROM now() - min(next_attempt_at)), 0)
  FROM webhook_deliveries WHERE state IN ('pending', 'retrying') AND next_attempt_at <= now()
UNION ALL
SELECT 'profile_reviews_due', count(*),
       coalesce(extract(epoch FROM now() - min(review_due_at)), 0)
  FROM customers WHERE kind = 'profile' AND status = 'pending_review'
   AND review_due_at <= now() AND deleted_at IS NULL
UNION ALL
SELECT 'profile_review_callbacks_due', count(*),
       coalesce(extract(epoch FROM now() - min(review_callback_due_at)), 0)
  FROM customers WHERE review_callback_due_at <= now()
UNION ALL
SELECT 'template_reviews_due', count(*),
       coalesce(extract(epoch FROM now() - min(review_due_at)), 0)
  FROM templates WHERE review_due_at <= now()
"""


async def depths(conn: Connection) -> dict[str, dict[str, float]]:
    rows = await conn.fetch(QUEUES_SQL)
    return {
        row["queue"]: {
            "depth": int(row["depth"]),
            "oldest_age_s": round(float(row["oldest_age_s"]), 3),
        }
        for row in rows
    }
