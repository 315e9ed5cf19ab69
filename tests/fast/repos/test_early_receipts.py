"""db.repos.early_receipts: receipts kept for messages not yet recorded as sent are taken once,
only for the messages asked, in arrival order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sentd.db.repos import early_receipts

NOW = datetime(2026, 3, 1, tzinfo=UTC)


async def keep(conn: Any, provider: str, message_id: str, status: str, second: int = 0) -> None:
    await early_receipts.keep(
        conn,
        provider=provider,
        provider_message_id=message_id,
        status=status,
        reason_code="MSG_001" if status == "FAILED" else None,
        reason="no route" if status == "FAILED" else None,
        received_at=NOW + timedelta(seconds=second),
    )


async def test_receipts_are_taken_once_in_arrival_order(db_conn: Any) -> None:
    await keep(db_conn, "twilio", "SM1", "DELIVERED")
    await keep(db_conn, "twilio", "SM2", "FAILED")
    await keep(db_conn, "twilio", "SM1", "READ", second=1)
    await keep(db_conn, "other", "SM1", "DELIVERED")  # the same id from another provider
    await keep(db_conn, "twilio", "SM3", "DELIVERED")

    taken = await early_receipts.take_many(db_conn, [("twilio", "SM1"), ("twilio", "SM2")])
    assert [(r["provider_message_id"], r["status"]) for r in taken] == [
        ("SM1", "DELIVERED"),
        ("SM2", "FAILED"),
        ("SM1", "READ"),
    ]
    assert (taken[1]["reason_code"], taken[1]["reason"]) == ("MSG_001", "no route")
    assert await early_receipts.take_many(db_conn, [("twilio", "SM1")]) == []
    # What was not asked for stays.
    rest = await early_receipts.take_many(db_conn, [("other", "SM1"), ("twilio", "SM3")])
    assert [(r["provider"], r["provider_message_id"]) for r in rest] == [
        ("other", "SM1"),
        ("twilio", "SM3"),
    ]
    assert await early_receipts.take_many(db_conn, []) == []
