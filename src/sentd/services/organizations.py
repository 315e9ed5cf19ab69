"""The operator's organizations: create, list, show, suspend and resume (see docs/organizations.md).

Creation reuses `accounts.open_organization`, the same steps `sentd init` takes for the demo.
Suspension keeps everything: it only makes the organization's keys, and its profiles' keys,
answer 403 `ACCOUNT_003` until it is resumed. Every API process learns of it at once: the keys'
digests go out with `NOTIFY sentd_key_revoked`, which drops them from the authentication caches.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sentd.db.database import Database
from sentd.db.repos import api_keys, balances, customers
from sentd.db.scope import Scope
from sentd.db.types import Record
from sentd.services.accounts import OpenedOrganization, open_organization


class OrganizationError(Exception):
    """An organization operation that cannot be done, with a message for the operator."""


@dataclass(frozen=True, slots=True)
class Suspension:
    organization_id: uuid.UUID
    suspended: bool
    changed: bool  # False when it already was in that state
    keys_notified: int


async def create(
    db: Database,
    *,
    name: str,
    owner_email: str,
    owner_name: str | None,
    plan: str | None,
    currency: str,
    live_credit_micros: int,
    test_credit_micros: int,
) -> OpenedOrganization:
    async with db.transaction() as conn:
        return await open_organization(
            conn,
            name=name,
            owner_email=owner_email,
            owner_name=owner_name,
            currency=currency,
            credit_micros={True: live_credit_micros, False: test_credit_micros},
            credit_reason="initial_credit",
            reference="sentd orgs create",
            plan=plan,
        )


async def list_organizations(db: Database) -> list[Any]:
    async with db.connection() as conn:
        return await customers.organization_summaries(conn)


# An organization's summary (`customers.organization_summaries`), its profiles, its balances.
Shown = tuple[Record, list[customers.Customer], dict[str, Any]]


async def show(db: Database, organization_id: uuid.UUID) -> Shown:
    """The organization's summary, its profiles, and its balance in each mode."""
    async with db.connection() as conn:
        rows = await customers.organization_summaries(conn, organization_id)
        if not rows:
            raise OrganizationError(f"no organization {organization_id}")
        profiles = await customers.list_profiles(conn, organization_id)
        modes = {
            "live" if livemode else "test": await balances.get(
                conn, Scope(organization_id, livemode)
            )
            for livemode in (True, False)
        }
    return rows[0], profiles, modes


async def set_suspended(db: Database, organization_id: uuid.UUID, suspended: bool) -> Suspension:
    """Suspend or resume; the organization's keys are dropped from every process's cache with the
    commit, so the next request of any of them sees the new state."""
    async with db.transaction() as conn:
        row = await customers.set_suspended(conn, organization_id, suspended)
        if row is None:
            profile = await customers.get(conn, organization_id)
            if profile is not None and profile.kind == "profile":
                raise OrganizationError(
                    f"{organization_id} is a profile; suspend its organization "
                    f"{profile.organization_id}"
                )
            raise OrganizationError(f"no organization {organization_id}")
        digests = await api_keys.active_digests_of_organization(conn, organization_id)
        await api_keys.notify_revoked(conn, digests)
    return Suspension(organization_id, suspended, bool(row["changed"]), len(digests))
