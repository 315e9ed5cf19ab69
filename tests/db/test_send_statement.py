"""The send, on the database alone (no HTTP): the one statement that writes contacts, messages,
their first events, webhook events and deliveries, and the final statement that counts and
debits — through the domain action a CLI command or a worker would call."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from sentd.auth.permissions import Role
from sentd.auth.principal import Principal
from sentd.config import Settings
from sentd.db import final_statement
from sentd.db.database import Database
from sentd.db.params import Params
from sentd.db.repos import balances, webhooks
from sentd.db.scope import Scope
from sentd.errors.exceptions import ApiError
from sentd.plans import Limits
from sentd.pricing import price_list
from sentd.providers.registry import Providers
from sentd.services import accounts
from sentd.services import messages as service

SMS_PRICE = 7_900
LIMITS = Limits(
    requests_per_minute=1000,
    requests_burst=100,
    sensitive_per_minute=10,
    sensitive_burst=5,
    messages_per_minute=1000,
    messages_per_day=5,
    contacts=1000,
    templates=100,
    webhooks=10,
    profiles=10,
)


def run(database_url: str, test: Callable[[Database], Awaitable[None]]) -> None:
    async def go() -> None:
        db = await Database.connect(database_url, Settings(database_url=database_url))
        try:
            await test(db)
        finally:
            await db.close()

    asyncio.run(go())


async def organization(db: Database, micros: int) -> Principal:
    async with db.transaction() as conn:
        suffix = uuid.uuid4().hex[:8]
        org, owner = await accounts.create_organization(
            conn, name=f"Org {suffix}", owner_email=f"o-{suffix}@example.com", currency="USD"
        )
        await balances.apply(
            conn,
            Scope(org.id, False),
            amount_micros=micros,
            currency="USD",
            reason="test",
            reference=None,
        )
    return Principal(
        key_id=uuid.uuid4(),
        user_id=owner["id"],
        role=Role.OWNER,
        livemode=False,
        key_customer_id=org.id,
        key_customer_kind="organization",
        organization_id=org.id,
        customer_id=org.id,
        plan="starter",
        limits=LIMITS,
    )


async def subscribe(db: Database, principal: Principal, statuses: list[str]) -> uuid.UUID:
    async with db.transaction() as conn:
        row = await webhooks.insert(
            conn,
            principal.scope,
            {
                "display_name": "hook",
                "endpoint_url": "http://127.0.0.1:9/",
                "event_types": ["message"],
                "event_filters": {"message": statuses},
                "sender_profile": None,
                "signing_secret": "whsec_test",
                "retry_count": 3,
                "timeout_seconds": 5,
            },
            datetime.now(UTC),
        )
    webhook_id: uuid.UUID = row.id
    return webhook_id


async def send(db: Database, principal: Principal, to: list[str]) -> dict[str, Any]:
    env = service.Environment(
        now=datetime.now(UTC),
        providers=Providers(Settings()),
        prices=price_list(Settings().pricing_file),
    )
    async with final_statement.transaction(db) as tx:
        return await service.send(
            tx.conn,
            tx,
            principal,
            service.SendRequest(to=to, channel=["sms"], text="Hello"),
            env,
            reference=f"test-{uuid.uuid4().hex[:8]}",
        )


def test_new_and_existing_contacts_and_webhook_fan_out(database_url: str) -> None:
    async def test(db: Database) -> None:
        principal = await organization(db, 10 * SMS_PRICE)
        queued = await subscribe(db, principal, ["queued"])
        await subscribe(db, principal, ["delivered"])  # takes none of these events
        first = await send(db, principal, ["+14155550101", "+14155550102"])
        second = await send(db, principal, ["+14155550101", "+14155550103"])
        ids = [uuid.UUID(r["message_id"]) for d in (first, second) for r in d["recipients"]]
        async with db.connection() as conn:
            contacts = {
                r["phone_e164"]: r["id"]
                for r in await conn.fetch(
                    "SELECT id, phone_e164 FROM contacts WHERE customer_id = $1",
                    principal.customer_id,
                )
            }
            assert sorted(contacts) == ["+14155550101", "+14155550102", "+14155550103"]
            rows = await conn.fetch(
                "SELECT id, contact_id, phone_e164, status, price_micros, charges "
                "FROM messages WHERE id = ANY($1::uuid[])",
                ids,
            )
            assert len(rows) == 4
            for row in rows:  # the existing contact is reused, the new ones created
                assert row["contact_id"] == contacts[row["phone_e164"]]
                assert row["status"] == "QUEUED" and row["price_micros"] == SMS_PRICE
                assert row["charges"] == [
                    {"customer_id": str(principal.customer_id), "micros": SMS_PRICE}
                ]
            firsts = await conn.fetch(
                "SELECT message_id, status, description FROM message_events "
                "WHERE message_id = ANY($1::uuid[])",
                ids,
            )
            assert sorted(r["message_id"] for r in firsts) == sorted(ids)
            assert all(r["description"].startswith("Accepted by the API") for r in firsts)
            events = await conn.fetch(
                "SELECT e.id, e.event_type, d.webhook_id FROM events e "
                "LEFT JOIN webhook_deliveries d ON d.event_id = e.id WHERE e.customer_id = $1",
                principal.customer_id,
            )
            assert len(events) == 4  # one event per message, one delivery each
            assert {e["event_type"] for e in events} == {"message.queued"}
            assert {e["webhook_id"] for e in events} == {queued}
            balance = await balances.get(conn, principal.scope)
            assert balance["amount_micros"] == 6 * SMS_PRICE
            assert (
                await conn.fetchval(
                    "SELECT count FROM daily_message_counts WHERE organization_id = $1",
                    principal.organization_id,
                )
                == 4
            )

    run(database_url, test)


def test_a_refused_charge_writes_nothing(database_url: str) -> None:
    async def test(db: Database) -> None:
        principal = await organization(db, SMS_PRICE)
        with pytest.raises(ApiError) as refused:
            await send(db, principal, ["+14155550104", "+14155550105"])
        assert refused.value.code == "BUSINESS_003"
        with pytest.raises(ApiError) as over:
            await send(db, principal, [f"+141555502{n:02d}" for n in range(6)])
        assert over.value.code == "BUSINESS_008"
        async with db.connection() as conn:
            for table in ("contacts", "messages", "events"):
                count = await conn.fetchval(
                    f"SELECT count(*) FROM {table} WHERE customer_id = $1", principal.customer_id
                )
                assert count == 0, table
            balance = await balances.get(conn, principal.scope)
            assert balance["amount_micros"] == SMS_PRICE

    run(database_url, test)


def test_fragments_cannot_renumber_each_other() -> None:
    p = Params()
    first = f"{p('a', 'int')} + {p('b', 'int')}"
    second = f"{p('c', 'text')} {p('a', 'int')}"
    assert (first, second) == ("$1::int + $2::int", "$3::text $1::int")
    assert p.bind({"c": "x", "b": 2, "a": 1}) == [1, 2, "x"]
    with pytest.raises(KeyError):
        p.bind({"a": 1, "b": 2})
    with pytest.raises(KeyError):
        p.bind({"a": 1, "b": 2, "d": 3})
