"""services.lifecycle on a connection: the message status machine (what may move where), what a
transition writes (status event, webhook event, refund), provider receipts early and late, and
cancelling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sentd.db.repos import balances, early_receipts, messages
from sentd.errors.exceptions import ApiError
from sentd.services import lifecycle
from tests.fast.factories import Org, make_contact, make_message, make_org

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
FORWARD = ["SCHEDULED", "QUEUED", "ACCEPTED", "SENT", "DELIVERED", "READ"]


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        *[(a, b, i < j) for i, a in enumerate(FORWARD) for j, b in enumerate(FORWARD)],
        *[(a, "FAILED", a not in ("DELIVERED", "READ")) for a in FORWARD],
        *[(a, "CANCELLED", a not in ("DELIVERED", "READ")) for a in FORWARD],
        *[(end, new, False) for end in ("FAILED", "CANCELLED", "RECEIVED") for new in FORWARD],
        ("FAILED", "CANCELLED", False),
        ("CANCELLED", "FAILED", False),
        ("RECEIVED", "FAILED", False),
    ],
)
def test_may_move_only_forward_and_end_only_before_delivery(
    current: str, new: str, allowed: bool
) -> None:
    assert lifecycle.may_move(current, new) is allowed


async def message(conn: Any, org: Org, status: str, **columns: Any) -> Any:
    contact = await make_contact(conn, org.scope())
    return await messages.get(
        conn, await make_message(conn, org.scope(), contact, status=status, **columns)
    )


async def history(conn: Any, message_id: Any) -> list[str]:
    return [e["status"] for e in await messages.events_of(conn, message_id)]


async def webhook_events(conn: Any, org: Org) -> list[str]:
    rows = await conn.fetch(
        "SELECT event_type FROM events WHERE customer_id = $1 ORDER BY created_at", org.id
    )
    return [r["event_type"] for r in rows]


async def live_balance(conn: Any, org: Org) -> int:
    amount: int = (await balances.get(conn, org.scope()))["amount_micros"]
    return amount


async def test_a_transition_records_and_announces_the_move(db_conn: Any) -> None:
    org = await make_org(db_conn)
    row = await message(db_conn, org, "ACCEPTED")
    sent = await lifecycle.transition(
        db_conn, row, "SENT", description="Sent", now=NOW, values={"provider": "simulator"}
    )
    assert sent.status == "SENT" and sent.provider == "simulator"
    assert sent.updated_at == NOW
    assert await history(db_conn, row.id) == ["SENT"]
    assert await webhook_events(db_conn, org) == ["message.sent"]
    # A move backwards (a late receipt) or from a stale row writes nothing.
    assert await lifecycle.transition(db_conn, sent, "ACCEPTED", description="x", now=NOW) is None
    assert await lifecycle.transition(db_conn, row, "SENT", description="x", now=NOW) is None
    assert await history(db_conn, row.id) == ["SENT"]
    assert await webhook_events(db_conn, org) == ["message.sent"]


async def test_ending_an_unsent_message_refunds_its_charges_once(db_conn: Any) -> None:
    org = await make_org(db_conn, live_micros=1_000_000)
    charges = [{"customer_id": str(org.id), "micros": 7_500}]
    queued = await message(
        db_conn, org, "QUEUED", price_micros=7_500, charges=charges, due_at=NOW, lease_until=NOW
    )
    failed = await lifecycle.transition(
        db_conn,
        queued,
        "FAILED",
        description="Failed",
        now=NOW,
        reason_code="MSG_001",
        reason="no route",
    )
    assert failed.refunded is True and await live_balance(db_conn, org) == 1_007_500
    assert (failed.reason_code, failed.reason) == ("MSG_001", "no route")
    assert failed.due_at is None and failed.lease_until is None
    assert await lifecycle.refund(db_conn, failed, NOW) is failed  # never twice
    assert await live_balance(db_conn, org) == 1_007_500
    # A message that failed after it was handed to a provider keeps its price.
    sent = await message(db_conn, org, "SENT", price_micros=7_500, charges=charges)
    failed = await lifecycle.transition(db_conn, sent, "FAILED", description="Failed", now=NOW)
    assert failed.refunded is False and await live_balance(db_conn, org) == 1_007_500


async def test_many_messages_move_in_one_go_and_the_unmovable_are_left_out(
    db_conn: Any,
) -> None:
    org = await make_org(db_conn)
    rows = [await message(db_conn, org, status) for status in ("QUEUED", "SENT", "ACCEPTED")]
    moved = await lifecycle.transition_many(
        db_conn,
        rows,
        "SENT",
        description="Sent",
        now=NOW,
        values={"provider_message_id": ["a", "b", "c"]},
    )
    assert [r.id for r in moved] == [rows[0].id, rows[2].id]
    assert [r.provider_message_id for r in moved] == ["a", "c"]
    assert (await messages.get(db_conn, rows[1].id)).provider_message_id is None
    assert await webhook_events(db_conn, org) == ["message.sent", "message.sent"]
    with pytest.raises(ValueError):
        await lifecycle.transition_many(db_conn, rows, "FAILED", description="x", now=NOW)


async def test_receipts_move_a_message_forward_only(db_conn: Any) -> None:
    org = await make_org(db_conn)
    row = await message(db_conn, org, "SENT", provider="twilio", provider_message_id="SM1")

    async def receipt(status: str) -> bool:
        return await lifecycle.record_provider_status(
            db_conn, provider="twilio", provider_message_id="SM1", status=status, now=NOW
        )

    assert await receipt("READ")  # READ without DELIVERED is accepted
    assert not await receipt("DELIVERED")  # a late one changes nothing
    assert not await receipt("FAILED")
    assert await history(db_conn, row.id) == ["READ"]


async def test_a_receipt_before_the_sent_commit_waits_and_applies_in_order(
    db_conn: Any,
) -> None:
    org = await make_org(db_conn)
    for status in ("DELIVERED", "READ"):
        kept = await lifecycle.record_provider_status(
            db_conn, provider="twilio", provider_message_id="SM9", status=status, now=NOW
        )
        assert kept is False  # no message has that id yet
    row = await message(db_conn, org, "ACCEPTED")
    sent = await lifecycle.transition(
        db_conn,
        row,
        "SENT",
        description="Sent",
        now=NOW,
        values={"provider": "twilio", "provider_message_id": "SM9"},
    )
    await lifecycle.apply_early_receipts(db_conn, sent, NOW + timedelta(seconds=1))
    assert await history(db_conn, row.id) == ["SENT", "DELIVERED", "READ"]
    assert (await messages.get(db_conn, row.id)).status == "READ"
    assert await early_receipts.take_many(db_conn, [("twilio", "SM9")]) == []


async def test_only_a_message_not_yet_handed_over_can_be_cancelled(db_conn: Any) -> None:
    org = await make_org(db_conn)
    scheduled = await message(db_conn, org, "SCHEDULED", scheduled_at=NOW + timedelta(hours=1))
    cancelled = await lifecycle.cancel(db_conn, scheduled, NOW)
    assert cancelled.status == "CANCELLED"
    assert await webhook_events(db_conn, org) == ["message.cancelled"]
    for status in ("SENT", "CANCELLED"):
        with pytest.raises(ApiError) as raised:
            await lifecycle.cancel(db_conn, await message(db_conn, org, status), NOW)
        assert raised.value.code == "BUSINESS_006"
