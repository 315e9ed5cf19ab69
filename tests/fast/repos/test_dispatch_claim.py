"""db.repos.messages's dispatcher claim (`claim_due`) and its hand-back (`release_claims`): a
claimed message is not claimed again until its lease passes, and two workers claiming at once
split the due messages between them (FOR UPDATE SKIP LOCKED) without waiting on each other.

The lease tests run on the rolled-back connection. SKIP LOCKED needs two connections that see the
same rows, so that test commits its rows on connections of its own and deletes them afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sentd.db.repos import customers, messages
from sentd.db.scope import Scope
from sentd.services import contacts
from tests.fast.conftest import connect, run
from tests.fast.factories import make_contact, make_message, make_org

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
LEASE = timedelta(seconds=30)


async def due(conn: Any, scope: Scope, contact: Any, *ages_s: int) -> list[uuid.UUID]:
    """QUEUED messages that became due `age` seconds before NOW."""
    return [
        await make_message(conn, scope, contact, due_at=NOW - timedelta(seconds=age))
        for age in ages_s
    ]


async def test_a_claim_leases_due_messages_oldest_first(db_conn: Any) -> None:
    org = await make_org(db_conn)
    contact = await make_contact(db_conn, org.scope())
    oldest, middle, newest = await due(db_conn, org.scope(), contact, 30, 20, 10)
    await make_message(db_conn, org.scope(), contact, due_at=NOW + timedelta(seconds=1))
    await make_message(db_conn, org.scope(), contact, status="SENT", due_at=NOW)
    claimed = await messages.claim_due(db_conn, NOW, 2, NOW + LEASE)
    assert [r.id for r, _ in claimed] == [oldest, middle]
    for row, was in claimed:
        assert (was, row.status, row.attempts) == ("QUEUED", "ACCEPTED", 1)
        assert row.lease_until == NOW + LEASE and row.updated_at == NOW
    rest = await messages.claim_due(db_conn, NOW, 10, NOW + LEASE)
    assert [r.id for r, _ in rest] == [newest]  # not yet due and SENT ones stay


async def test_a_claimed_message_is_claimed_again_only_when_its_lease_passes(
    db_conn: Any,
) -> None:
    org = await make_org(db_conn)
    contact = await make_contact(db_conn, org.scope())
    [message_id] = await due(db_conn, org.scope(), contact, 5)
    await messages.claim_due(db_conn, NOW, 10, NOW + LEASE)
    for later in (NOW, NOW + LEASE - timedelta(microseconds=1)):
        assert await messages.claim_due(db_conn, later, 10, later + LEASE) == []
    # The worker that held it died: once the lease runs out, another worker takes it over.
    [(again, was)] = await messages.claim_due(db_conn, NOW + LEASE, 10, NOW + 2 * LEASE)
    assert again.id == message_id and was == "ACCEPTED"
    assert again.attempts == 2 and again.lease_until == NOW + 2 * LEASE


async def test_released_claims_are_due_at_once_with_their_attempt_given_back(
    db_conn: Any,
) -> None:
    org = await make_org(db_conn)
    contact = await make_contact(db_conn, org.scope())
    first, second = await due(db_conn, org.scope(), contact, 5, 4)
    await messages.claim_due(db_conn, NOW, 1, NOW + LEASE)  # first
    await messages.claim_due(db_conn, NOW, 1, NOW + 2 * LEASE)  # second, another claim
    stopping = NOW + timedelta(seconds=1)
    await messages.release_claims(db_conn, [first, second], NOW + LEASE, stopping)
    released, held = await messages.get(db_conn, first), await messages.get(db_conn, second)
    assert released is not None and held is not None
    assert (released.lease_until, released.attempts) == (stopping, 0)
    assert (held.lease_until, held.attempts) == (NOW + 2 * LEASE, 1)  # not that claim's
    [(taken, _)] = await messages.claim_due(db_conn, stopping, 10, stopping + LEASE)
    assert taken.id == first and taken.attempts == 1


@pytest.fixture
def committed_messages(database_url: str) -> Iterator[list[uuid.UUID]]:
    """Four due QUEUED messages of a new organization, committed; deleted afterwards."""

    async def setup() -> tuple[uuid.UUID, list[uuid.UUID]]:
        conn = await connect(database_url)
        try:
            async with conn.transaction():
                org = await customers.insert_organization(conn, name="Claims", email=None)
                scope = Scope(org.id, True)
                contact = await contacts.find_or_create(conn, scope, "+14155550100")
                return org.id, await due(conn, scope, contact, 40, 30, 20, 10)
        finally:
            await conn.close()

    async def cleanup(customer_id: uuid.UUID) -> None:
        conn = await connect(database_url)
        try:
            async with conn.transaction():
                for table in ("messages", "contacts"):
                    await conn.execute(f"DELETE FROM {table} WHERE customer_id = $1", customer_id)
                await conn.execute("DELETE FROM customers WHERE id = $1", customer_id)
        finally:
            await conn.close()

    customer_id, message_ids = run(setup())
    try:
        yield message_ids
    finally:
        run(cleanup(customer_id))


async def test_two_workers_claiming_at_once_split_the_due_messages(
    database_url: str, committed_messages: list[uuid.UUID]
) -> None:
    first, second = await connect(database_url), await connect(database_url)
    try:
        # A claim that waited on the other's locks instead of skipping them fails here, at once.
        await second.execute("SET lock_timeout = '2s'")
        one = first.transaction()
        await one.start()
        mine = await messages.claim_due(first, NOW, 2, NOW + LEASE)
        assert [r.id for r, _ in mine] == committed_messages[:2]
        # `first` holds its two rows, uncommitted: `second` skips them and takes the others.
        async with second.transaction():
            theirs = await messages.claim_due(second, NOW, 10, NOW + LEASE)
        assert [r.id for r, _ in theirs] == committed_messages[2:]
        await one.commit()
        # Both claims are committed and leased: nothing is due for anyone until the lease passes.
        assert await messages.claim_due(second, NOW, 10, NOW + LEASE) == []
        after = await messages.claim_due(second, NOW + LEASE, 10, NOW + 2 * LEASE)
        assert sorted(r.id for r, _ in after) == sorted(committed_messages)
    finally:
        await first.close()
        await second.close()
