"""Organizations, profiles and their owners; the demo bootstrap; the account views."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sentd.auth.permissions import Role
from sentd.db.database import Database
from sentd.db.repos import balances, customers, users
from sentd.db.scope import Scope
from sentd.db.types import Connection
from sentd.errors.exceptions import ApiError
from sentd.money import micros_to_units
from sentd.services import keys
from sentd.services.profiles import DEFAULT_SETTINGS, SETTING_FLAGS

DEMO_ORGANIZATION_NAME = "Demo Organization"
DEMO_OWNER_EMAIL = "owner@demo.sentd.local"


@dataclass(frozen=True, slots=True)
class Bootstrap:
    organization_id: uuid.UUID
    owner_email: str
    created: bool
    live_key: str | None
    test_key: str | None


async def create_organization(
    conn: Connection, *, name: str, owner_email: str, owner_name: str | None = None, currency: str
) -> tuple[customers.Customer, Any]:
    """An organization, its owner, and an empty balance in each mode (caller's transaction)."""
    org = await customers.insert_organization(conn, name=name, email=owner_email)
    owner = await users.insert(
        conn, organization_id=org.id, email=owner_email, name=owner_name, role=Role.OWNER
    )
    for livemode in (True, False):
        await balances.apply(
            conn,
            Scope(org.id, livemode),
            amount_micros=0,
            currency=currency,
            reason="open",
            reference=None,
        )
    return org, owner


@dataclass(frozen=True, slots=True)
class OpenedOrganization:
    organization: customers.Customer
    owner: Any
    live_key: str
    test_key: str


async def open_organization(
    conn: Connection,
    *,
    name: str,
    owner_email: str,
    owner_name: str | None,
    currency: str,
    credit_micros: dict[bool, int],
    credit_reason: str,
    reference: str,
    plan: str | None = None,
) -> OpenedOrganization:
    """What `sentd init` makes for the demo and `sentd orgs create` for anyone (caller's
    transaction): an organization on `plan`, its owner, a balance in each mode credited with
    `credit_micros[livemode]`, and a live and a test key for the owner."""
    org, owner = await create_organization(
        conn, name=name, owner_email=owner_email, owner_name=owner_name, currency=currency
    )
    if plan is not None:
        org = await customers.set_plan(conn, org.id, plan) or org
    for livemode, micros in credit_micros.items():
        if micros > 0:
            await balances.apply(
                conn,
                Scope(org.id, livemode),
                amount_micros=micros,
                currency=currency,
                reason=credit_reason,
                reference=reference,
            )
    live = await keys.issue(conn, customer_id=org.id, user_id=owner["id"], livemode=True)
    test = await keys.issue(conn, customer_id=org.id, user_id=owner["id"], livemode=False)
    return OpenedOrganization(org, owner, live.plaintext, test.plaintext)


async def bootstrap_demo(
    db: Database, *, demo_balance_micros: int, currency: str, new_keys: bool = False
) -> Bootstrap:
    """Create the demo organization with live and test keys and credited balances, once.

    Run again, it creates nothing and shows no keys (they are stored hashed); `new_keys` issues a
    fresh pair for the existing owner.
    """
    async with db.transaction() as conn:
        await customers.lock_named(conn, "sentd.bootstrap_demo")
        existing = await customers.find_organization_by_email(conn, DEMO_OWNER_EMAIL)
        if existing is None:
            opened = await open_organization(
                conn,
                name=DEMO_ORGANIZATION_NAME,
                owner_email=DEMO_OWNER_EMAIL,
                owner_name="Demo Owner",
                currency=currency,
                credit_micros={True: demo_balance_micros, False: demo_balance_micros},
                credit_reason="demo_credit",
                reference="sentd init",
            )
            org_id, owner = opened.organization.id, opened.owner
            return Bootstrap(org_id, owner["email"], True, opened.live_key, opened.test_key)
        org_id = existing["id"]
        owner = await users.get_owner(conn, org_id)
        if not new_keys:
            return Bootstrap(org_id, owner["email"], False, None, None)
        live = await keys.issue(conn, customer_id=org_id, user_id=owner["id"], livemode=True)
        test = await keys.issue(conn, customer_id=org_id, user_id=owner["id"], livemode=False)
        return Bootstrap(org_id, owner["email"], False, live.plaintext, test.plaintext)


def _settings_view(customer: customers.Customer) -> dict[str, Any]:
    settings = {**DEFAULT_SETTINGS, **(customer.settings or {})}
    return {name: settings[name] for name in ("billing_model", *SETTING_FLAGS)}


def _channels_view() -> dict[str, Any]:
    # No sending numbers are configured yet; the providers issue fills these in.
    return {
        "sms": {"configured": False},
        "whatsapp": {"configured": False},
        "rcs": {"configured": False},
    }


def _profile_summary(profile: customers.Customer, role: str) -> dict[str, Any]:
    return {
        "id": str(profile.id),
        "name": profile.name,
        "short_name": profile.short_name,
        "description": profile.description,
        "icon": profile.icon,
        "role": role,
        "status": profile.status,
        "created_at": profile.created_at,
        "settings": _settings_view(profile),
    }


async def account_view(db: Database, scope: Scope, *, role: str) -> dict[str, Any]:
    """The `GET /v3/me` data for the customer in `scope`, with that mode's balance."""
    async with db.connection() as conn:
        customer = await customers.get(conn, scope.customer_id)
        if customer is None:
            # Deleted since the key was cached here (its revocation notice is on its way).
            raise ApiError("AUTH_002")
        balance = await balances.get(conn, scope)
        profiles = (
            await customers.list_profiles(conn, customer.id)
            if customer.kind == "organization"
            else []
        )
    is_profile = customer.kind == "profile"
    view: dict[str, Any] = {
        "id": str(customer.id),
        "type": customer.kind,
        "name": customer.name,
        "email": customer.email,
        "icon": customer.icon,
        "description": customer.description,
        "created_at": customer.created_at,
        "profiles": [_profile_summary(p, role) for p in profiles],
        "channels": _channels_view(),
        "sending_phone_number": None,
        "sending_phone_number_profile_id": None,
        "enable_template_auto_creation_for_sp": False,
        "balance": _balance_view(balance),
        "mode": scope.mode,
        "role": role,
    }
    if is_profile:
        view |= {
            "organization_id": str(customer.organization_id),
            "short_name": customer.short_name,
            "status": customer.status,
            "settings": _settings_view(customer),
        }
    return view


def _balance_view(balance: Any) -> dict[str, Any]:
    micros = balance["amount_micros"] if balance else 0
    return {
        "amount": micros_to_units(micros),
        "amount_micros": micros,
        "currency": balance["currency"] if balance else None,
    }


async def organization_view(
    db: Database, organization_id: uuid.UUID, *, role: str, only: uuid.UUID | None = None
) -> dict[str, Any] | None:
    """The organization; its `profiles` are all of them, or with `only` just that one (a
    profile sees its parent but never its siblings)."""
    async with db.connection() as conn:
        org = await customers.get(conn, organization_id)
        if org is None or org.kind != "organization":
            return None
        profiles = await customers.list_profiles(conn, organization_id)
    if only is not None:
        profiles = [p for p in profiles if p.id == only]
    return {
        "id": str(org.id),
        "type": "organization",
        "name": org.name,
        "email": org.email,
        "icon": org.icon,
        "description": org.description,
        "created_at": org.created_at,
        "updated_at": org.updated_at,
        "profiles": [_profile_summary(p, role) for p in profiles],
    }
