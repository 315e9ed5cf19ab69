"""Factories: organizations, users, profiles and keys, made through sentd's own services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sentd.db.database import Database
from sentd.db.repos import balances, customers, users
from sentd.db.scope import Scope
from sentd.db.types import Connection
from sentd.services import accounts, keys
from tests.live_server import LiveServer


@dataclass
class Org:
    id: uuid.UUID
    owner_id: uuid.UUID
    live_key: str
    test_key: str


# A sender profile the API accepts with the fewest fields: paid by the organization, with a
# brand of its own (a manual review then decides it).
SHOP_PROFILE: dict[str, Any] = {
    "name": "Shop",
    "short_name": "SHOP",
    "billing_model": "organization",
    "brand": {
        "contact": {"name": "Ana"},
        "compliance": {"brandRelationship": "SMALL_ACCOUNT", "vertical": "RETAIL"},
    },
}


def _db(server: LiveServer) -> Database:
    db: Database = server.app.state.db
    return db


def make_org(
    server: LiveServer, *, live_micros: int = 10_000_000, test_micros: int = 5_000_000
) -> Org:
    async def go() -> Org:
        async with _db(server).transaction() as conn:
            suffix = uuid.uuid4().hex[:8]
            org, owner = await accounts.create_organization(
                conn,
                name=f"Org {suffix}",
                owner_email=f"owner-{suffix}@example.com",
                currency="USD",
            )
            for livemode, amount in ((True, live_micros), (False, test_micros)):
                await balances.apply(
                    conn,
                    Scope(org.id, livemode),
                    amount_micros=amount,
                    currency="USD",
                    reason="test",
                    reference=None,
                )
            live = await keys.issue(conn, customer_id=org.id, user_id=owner["id"], livemode=True)
            test = await keys.issue(conn, customer_id=org.id, user_id=owner["id"], livemode=False)
        return Org(org.id, owner["id"], live.plaintext, test.plaintext)

    return server.run(go())


async def insert_member(conn: Connection, org: Org, role: str, email: str | None = None) -> Any:
    """An active user of `org` with `role` (no password; a fresh email unless one is given)."""
    return await users.insert(
        conn,
        organization_id=org.id,
        email=email or f"{role}-{uuid.uuid4().hex[:8]}@example.com",
        name=None,
        role=role,
    )


def make_key(
    server: LiveServer,
    org: Org,
    *,
    role: str = "owner",
    customer_id: uuid.UUID | None = None,
    livemode: bool = True,
    expires_at: datetime | None = None,
) -> str:
    """A key for `customer_id` (default: the org) issued to a user with `role`."""

    async def go() -> str:
        async with _db(server).transaction() as conn:
            user_id = org.owner_id
            if role != "owner":
                user_id = (await insert_member(conn, org, role))["id"]
            issued = await keys.issue(
                conn,
                customer_id=customer_id or org.id,
                user_id=user_id,
                livemode=livemode,
                expires_at=expires_at,
            )
        return issued.plaintext

    return server.run(go())


def make_profile(server: LiveServer, org: Org, *, name: str = "Profile") -> Any:
    async def go() -> Any:
        async with _db(server).transaction() as conn:
            return await customers.insert_profile(
                conn, organization_id=org.id, name=name, short_name="PROF"
            )

    return server.run(go())


def table_counts(server: LiveServer) -> dict[str, int]:
    """Rows in every table of the schema, to show an operation changed nothing."""

    async def go() -> dict[str, int]:
        async with _db(server).connection() as conn:
            tables = await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
            return {
                t["tablename"]: await conn.fetchval(f'SELECT count(*) FROM "{t["tablename"]}"')
                for t in tables
            }

    return server.run(go())


def ledger_rows(server: LiveServer, org: Org, reason: str = "probe") -> int:
    async def go() -> int:
        async with _db(server).connection() as conn:
            count: int = await conn.fetchval(
                "SELECT count(*) FROM ledger_entries WHERE customer_id = $1 AND reason = $2",
                org.id,
                reason,
            )
            return count

    return server.run(go())


def set_limits(server: LiveServer, org: Org, plan: str | None = None, **overrides: int) -> None:
    from sentd.services.plans import set_plan

    settings = server.app.state.settings
    server.run(
        set_plan(
            _db(server),
            org.id,
            plan=plan,
            overrides=overrides,
            reset=False,
            request_rates=settings.request_rates,
        )
    )


def customer_counts(server: LiveServer, customer_id: uuid.UUID) -> dict[str, int]:
    """Rows that belong to one customer, table by table: what a refused or sandbox request of
    that customer must leave unchanged (other tests' workers may be busy meanwhile)."""
    queries = {
        "messages": "SELECT count(*) FROM messages WHERE customer_id = $1",
        "message_events": "SELECT count(*) FROM message_events e JOIN messages m "
        "ON m.id = e.message_id WHERE m.customer_id = $1",
        "contacts": "SELECT count(*) FROM contacts WHERE customer_id = $1",
        "ledger_entries": "SELECT count(*) FROM ledger_entries WHERE customer_id = $1",
        "balances": "SELECT sum(amount_micros) FROM balances WHERE customer_id = $1",
        "events": "SELECT count(*) FROM events WHERE customer_id = $1",
        "idempotency_keys": "SELECT count(*) FROM idempotency_keys WHERE customer_id = $1",
    }

    async def go() -> dict[str, int]:
        async with _db(server).connection() as conn:
            return {name: await conn.fetchval(sql, customer_id) for name, sql in queries.items()}

    return server.run(go())


def credit(server: LiveServer, customer_id: uuid.UUID, micros: int, *, livemode: bool) -> None:
    async def go() -> None:
        async with _db(server).transaction() as conn:
            await balances.apply(
                conn,
                Scope(customer_id, livemode),
                amount_micros=micros,
                currency="USD",
                reason="test",
                reference=None,
            )

    server.run(go())


def balance_of(server: LiveServer, customer_id: uuid.UUID, *, livemode: bool) -> int:
    async def go() -> int:
        async with _db(server).connection() as conn:
            row = await balances.get(conn, Scope(customer_id, livemode))
            return int(row["amount_micros"]) if row else 0

    return server.run(go())
