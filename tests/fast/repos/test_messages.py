"""db.repos.messages: storing, reading, moving and listing messages and their events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sentd.db.repos import messages
from tests.fast.factories import make_contact, make_message, make_org


async def test_a_stored_message_reads_back(db_conn: Any) -> None:
    org = await make_org(db_conn)
    contact = await make_contact(db_conn, org.scope())
    message_id = await make_message(db_conn, org.scope(), contact, text="Hi there")
    row = await messages.get(db_conn, message_id)
    assert row.customer_id == org.id and row.livemode is True
    assert row.contact_id == contact["id"] and row.status == "QUEUED"
    assert row.body == {"text": "Hi there"}  # jsonb comes back decoded
    assert row.price_micros == 0 and row.charges == [] and row.attempts == 0


async def test_set_status_moves_only_from_the_expected_status(db_conn: Any) -> None:
    org = await make_org(db_conn)
    contact = await make_contact(db_conn, org.scope())
    message_id = await make_message(db_conn, org.scope(), contact, status="QUEUED")
    moved = await messages.set_status(
        db_conn, message_id, "QUEUED", "SENT", {"provider": "simulator", "attempts": 1}
    )
    assert moved.status == "SENT" and moved.provider == "simulator"
    assert moved.attempts == 1
    # A second mover that still believes it is QUEUED changes nothing.
    assert await messages.set_status(db_conn, message_id, "QUEUED", "FAILED", {}) is None
    assert (await messages.get(db_conn, message_id)).status == "SENT"


async def test_a_provider_id_finds_its_message(db_conn: Any) -> None:
    org = await make_org(db_conn)
    contact = await make_contact(db_conn, org.scope())
    message_id = await make_message(
        db_conn, org.scope(), contact, provider="twilio", provider_message_id="SM123"
    )
    found = await messages.get_by_provider_id(db_conn, "twilio", "SM123")
    assert found.id == message_id
    assert await messages.get_by_provider_id(db_conn, "twilio", "SM999") is None
    assert await messages.get_by_provider_id(db_conn, "other", "SM123") is None


async def test_events_are_kept_in_the_order_they_happened(db_conn: Any) -> None:
    org = await make_org(db_conn)
    contact = await make_contact(db_conn, org.scope())
    first = await make_message(db_conn, org.scope(), contact)
    second = await make_message(db_conn, org.scope(), contact)
    now = datetime.now(UTC)
    await messages.add_events(
        db_conn,
        [
            (first, "QUEUED", "Queued", None, None, now),
            (first, "SENT", "Sent", None, None, now + timedelta(seconds=1)),
            (second, "FAILED", "Failed", "MSG_001", "no route", now),
        ],
    )
    assert [e["status"] for e in await messages.events_of(db_conn, first)] == ["QUEUED", "SENT"]
    grouped = await messages.events_of_many(db_conn, [first, second])
    assert [e["status"] for e in grouped[first]] == ["QUEUED", "SENT"]
    assert [(e["status"], e["reason_code"]) for e in grouped[second]] == [("FAILED", "MSG_001")]


async def test_a_page_is_newest_first_filtered_and_scoped(db_conn: Any) -> None:
    org, other = await make_org(db_conn), await make_org(db_conn)
    scope = org.scope()
    alice = await make_contact(db_conn, scope, "+14155550101")
    bob = await make_contact(db_conn, scope, "+14155550102")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ids = [
        await make_message(db_conn, scope, alice, created_at=start, channel="sms"),
        await make_message(db_conn, scope, bob, created_at=start + timedelta(minutes=1)),
        await make_message(
            db_conn, scope, alice, created_at=start + timedelta(minutes=2), channel="whatsapp"
        ),
        await make_message(
            db_conn, scope, bob, created_at=start + timedelta(minutes=3), status="DELIVERED"
        ),
    ]
    # Another organization's and the other mode's messages are never listed.
    await make_message(db_conn, other.scope(), await make_contact(db_conn, other.scope()))
    await make_message(db_conn, org.scope(False), await make_contact(db_conn, org.scope(False)))

    rows, total = await messages.page(db_conn, org.id, True, limit=2, offset=0)
    assert total == 4 and [r.id for r in rows] == [ids[3], ids[2]]
    rows, _ = await messages.page(db_conn, org.id, True, limit=2, offset=2)
    assert [r.id for r in rows] == [ids[1], ids[0]]

    async def ids_of(**filters: Any) -> list[Any]:
        rows, total = await messages.page(db_conn, org.id, True, limit=10, offset=0, **filters)
        assert total == len(rows)
        return [r.id for r in rows]

    assert await ids_of(contact_id=alice["id"]) == [ids[2], ids[0]]
    assert await ids_of(status="DELIVERED") == [ids[3]]
    assert await ids_of(channel="whatsapp") == [ids[2]]
    assert await ids_of(since=start + timedelta(minutes=1), until=start + timedelta(minutes=2)) == [
        ids[2],
        ids[1],
    ]
