"""Issuing, listing and revoking API keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sentd.auth import keys as key_format
from sentd.db.database import Database
from sentd.db.repos import api_keys, customers, users
from sentd.db.types import Connection
from sentd.ids import parse_uuid


class KeyIssueError(Exception):
    """A key operation that cannot be done, with a message for the operator."""


@dataclass(frozen=True, slots=True)
class IssuedKey:
    plaintext: str
    record: Any


async def issue(
    conn: Connection,
    *,
    customer_id: uuid.UUID,
    user_id: uuid.UUID,
    livemode: bool,
    name: str | None = None,
    expires_at: datetime | None = None,
) -> IssuedKey:
    new = key_format.generate(livemode)
    record = await api_keys.insert(
        conn,
        customer_id=customer_id,
        user_id=user_id,
        livemode=livemode,
        prefix=new.prefix,
        digest=new.digest,
        name=name,
        expires_at=expires_at,
    )
    return IssuedKey(new.plaintext, record)


async def create(
    db: Database,
    *,
    customer_id: uuid.UUID | None,
    user_email: str | None,
    livemode: bool,
    name: str | None = None,
    expires_at: datetime | None = None,
) -> IssuedKey:
    """Issue a key for a customer (default: the only organization) to one of its organization's
    users (default: the owner)."""
    async with db.transaction() as conn:
        if customer_id is None:
            organizations = await customers.list_organizations(conn)
            if len(organizations) != 1:
                raise KeyIssueError(
                    f"there are {len(organizations)} organizations; name one with --customer"
                )
            customer: customers.Customer | None = organizations[0]
        else:
            customer = await customers.get(conn, customer_id)
        if customer is None:
            raise KeyIssueError(f"no customer {customer_id}")
        organization_id = customer.organization
        user = (
            await users.get_by_email(conn, organization_id, user_email)
            if user_email
            else await users.get_owner(conn, organization_id)
        )
        if user is None:
            raise KeyIssueError(
                f"no user {user_email or '(owner)'} in organization {organization_id}"
            )
        if user["status"] != "active":
            # Authentication accepts only active users' keys: this one would never work.
            raise KeyIssueError(
                f"{user['email']} has not accepted their invitation yet (status {user['status']}); "
                "a key is issued once they do: `sentd users reissue` gives a fresh invitation "
                "token, `sentd users accept TOKEN` accepts it"
            )
        return await issue(
            conn,
            customer_id=customer.id,
            user_id=user["id"],
            livemode=livemode,
            name=name,
            expires_at=expires_at,
        )


async def revoke(db: Database, key_or_id: str, *, customer_id: uuid.UUID | None = None) -> Any:
    """Revoke a key given as its plaintext or its id (only a key of `customer_id`, when given);
    None when there is no such key."""
    key_id = parse_uuid(key_or_id)
    digest = None if key_id else key_format.digest(key_or_id)
    async with db.transaction() as conn:
        record = await api_keys.revoke(conn, key_id=key_id, digest=digest, customer_id=customer_id)
        if record is not None:
            await api_keys.notify_revoked(conn, [bytes(record["key_hash"])])
        return record


async def list_keys(db: Database, customer_id: uuid.UUID | None = None) -> list[Any]:
    async with db.connection() as conn:
        return await api_keys.list_all(conn, customer_id)
