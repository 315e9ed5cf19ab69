"""Factories for the fast tier: rows made on the test's connection, through sentd's own
services and repositories (so they are what the server would have made)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sentd.auth import keys as key_format
from sentd.auth.authenticator import principal_from_row
from sentd.auth.principal import Principal
from sentd.config import Settings
from sentd.db.database import Database
from sentd.db.repos import api_keys, balances, customers, messages
from sentd.db.scope import Scope
from sentd.ids import new_id
from sentd.services import accounts, contacts, keys, users

REQUEST_RATES = Settings.model_construct().request_rates  # the defaults


class OneConnection(Database):
    """A `Database` for services that open their own connection or transaction: every one is
    the test's connection (a transaction there is a savepoint, rolled back with the test's)."""

    def __init__(self, conn: Any) -> None:
        super().__init__(pool=None, dsn="")
        self.conn = conn

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        yield self.conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        async with self.conn.transaction():
            yield self.conn


@dataclass(frozen=True)
class Org:
    id: uuid.UUID
    owner_id: uuid.UUID
    live_key: str
    test_key: str

    def scope(self, livemode: bool = True) -> Scope:
        return Scope(self.id, livemode)


async def make_org(conn: Any, *, live_micros: int = 10_000_000, currency: str = "USD") -> Org:
    """An organization with its owner, a key per mode, and `live_micros` on its live balance."""
    suffix = uuid.uuid4().hex[:8]
    org, owner = await accounts.create_organization(
        conn, name=f"Org {suffix}", owner_email=f"owner-{suffix}@example.com", currency=currency
    )
    if live_micros:
        await balances.apply(
            conn,
            Scope(org.id, True),
            amount_micros=live_micros,
            currency=currency,
            reason="test",
            reference=None,
        )
    live = await keys.issue(conn, customer_id=org.id, user_id=owner["id"], livemode=True)
    test = await keys.issue(conn, customer_id=org.id, user_id=owner["id"], livemode=False)
    return Org(org.id, owner["id"], live.plaintext, test.plaintext)


async def make_profile(conn: Any, org: Org, *, name: str = "Shop") -> Any:
    return await customers.insert_profile(conn, organization_id=org.id, name=name)


async def invite(
    conn: Any, org: Org, email: str, role: str, *, now: datetime, name: str | None = None
) -> users.Invitation:
    """`users.invite` of `email` into `org` with `role`."""
    return await users.invite(
        conn, organization_id=org.id, email=email, name=name, role=role, now=now
    )


async def principal_of(conn: Any, plaintext: str) -> Principal:
    """The principal a request with this key acts as (what the authenticator builds)."""
    row = await api_keys.touch_active(conn, key_format.digest(plaintext))
    assert row is not None, "the key does not authenticate"
    return principal_from_row(row, REQUEST_RATES)


async def make_contact(conn: Any, scope: Scope, e164: str = "+14155550100") -> Any:
    return await contacts.find_or_create(conn, scope, e164)


async def make_message(
    conn: Any,
    scope: Scope,
    contact: Any,
    *,
    status: str = "QUEUED",
    channel: str = "sms",
    text: str = "Hello",
    created_at: datetime | None = None,
    **columns: Any,
) -> uuid.UUID:
    """An outbound message row, as a send would store it; returns its id."""
    now = created_at or datetime.now(UTC)
    message_id = new_id()
    row: dict[str, Any] = {
        "id": message_id,
        "customer_id": scope.customer_id,
        "livemode": scope.livemode,
        "contact_id": contact["id"],
        "direction": "OUTBOUND",
        "channel": channel,
        "status": status,
        "phone_e164": contact["phone_e164"],
        "phone_international": contact["phone_e164"],
        "body": {"text": text},
        "created_at": now,
        "updated_at": now,
        **columns,
    }
    await messages.insert_many(conn, [row])
    return message_id
