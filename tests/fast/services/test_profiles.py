"""services.profiles on a connection: creating from a `ProfileInput`, the partial semantics of
`ProfileChanges` (left out: kept; given as None: cleared), billing and brand rules, sending
numbers, and submitting for review."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sentd.auth.principal import Principal
from sentd.db.repos import balances, sending_numbers
from sentd.db.scope import Scope
from sentd.domain.profiles import Brand, PaymentDetails, ProfileChanges, ProfileInput
from sentd.errors.exceptions import ApiError
from sentd.services import profiles
from tests.fast.factories import make_org, principal_of

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
CONTACT = {"name": "Billing", "email": "billing@example.com"}
BRAND = Brand(contact={"email": "brand@example.com"}, compliance={"brandName": "Shop"})


def changes(**given: Any) -> ProfileChanges:
    """A partial update that sends exactly the fields named."""
    return ProfileChanges(**given, given=frozenset(given))


async def org_principal(conn: Any) -> Principal:
    return await principal_of(conn, (await make_org(conn)).live_key)


async def shop(conn: Any, principal: Principal, **values: Any) -> Any:
    given = ProfileInput(name="Shop", billing_contact=CONTACT, **values)
    return await profiles.create(conn, principal, given, NOW)


async def test_create_applies_the_default_settings_and_opens_balances(db_conn: Any) -> None:
    principal = await org_principal(db_conn)
    row = await shop(db_conn, principal, short_name="SHOP", inherit_contacts=False)
    assert row["status"] == "incomplete" and row["organization_id"] == principal.organization_id
    assert row["settings"] == profiles.DEFAULT_SETTINGS | {"inherit_contacts": False}
    assert row["billing_contact"] == CONTACT and row["brand"] is None
    for livemode in (True, False):
        balance = await balances.get(db_conn, Scope(row["id"], livemode))
        assert balance is not None and balance["amount_micros"] == 0
    assert (await profiles.get(db_conn, principal, row["id"]))["id"] == row["id"]


async def test_only_the_cards_last_digits_and_expiry_are_kept(db_conn: Any) -> None:
    principal = await org_principal(db_conn)
    card = PaymentDetails(card_number="4242 4242 4242 4242", expiry="12/30")
    row = await shop(db_conn, principal, payment_details=card)
    assert row["payment_card"] == {"last4": "4242", "expiry": "12/30"}
    stored = await db_conn.fetchval(
        "SELECT row_to_json(c)::text FROM customers c WHERE id = $1", row["id"]
    )
    assert "4242424242424242" not in stored and "4242 4242" not in stored


async def test_billing_and_brand_rules(db_conn: Any) -> None:
    principal = await org_principal(db_conn)
    with pytest.raises(ApiError) as raised:  # the profile pays: it needs a billing contact
        await profiles.create(db_conn, principal, ProfileInput(name="A"), NOW)
    assert raised.value.code == "VALIDATION_004"
    assert raised.value.details is not None and "billing_contact" in raised.value.details
    paid_by_org = ProfileInput(name="B", billing_model="organization")
    assert (await profiles.create(db_conn, principal, paid_by_org, NOW))["billing_contact"] is None
    card = PaymentDetails(card_number="4111111111111111", expiry="01/31")
    with pytest.raises(ApiError) as raised:  # nor a card when the organization pays
        await profiles.create(
            db_conn, principal, dataclasses.replace(paid_by_org, payment_details=card), NOW
        )
    assert raised.value.code == "VALIDATION_001"
    with pytest.raises(ApiError) as raised:  # a brand of its own or the organization's
        await shop(db_conn, principal, brand=BRAND, inherit_tcr_brand=True)
    assert raised.value.code == "VALIDATION_001"


async def test_profiles_are_managed_at_the_organization_level_within_the_quota(
    db_conn: Any,
) -> None:
    principal = await org_principal(db_conn)
    capped = dataclasses.replace(
        principal, limits=dataclasses.replace(principal.limits, profiles=1)
    )
    first = await shop(db_conn, capped)
    with pytest.raises(ApiError) as raised:
        await shop(db_conn, capped.acting_as(first["id"]))
    assert raised.value.code == "AUTH_004"
    with pytest.raises(ApiError) as raised:
        await shop(db_conn, capped)
    assert raised.value.code == "BUSINESS_008"
    await profiles.delete(db_conn, capped, first["id"])  # a deleted profile frees its place
    await shop(db_conn, capped)
    with pytest.raises(ApiError) as raised:
        await profiles.get(db_conn, capped, first["id"])
    assert raised.value.code == "RESOURCE_004"


async def test_an_update_keeps_what_is_left_out_and_clears_what_is_given_as_null(
    db_conn: Any,
) -> None:
    principal = await org_principal(db_conn)
    row = await shop(db_conn, principal, short_name="SHOP", description="Cakes", icon="i.png")
    updated = await profiles.update(
        db_conn,
        principal,
        row["id"],
        changes(name=None, description=None, allow_template_sharing=True),
        NOW,
    )
    assert updated["name"] == "Shop"  # null leaves a required field as it is
    assert updated["description"] is None  # and clears an optional one
    assert (updated["short_name"], updated["icon"]) == ("SHOP", "i.png")  # left out: kept
    assert updated["billing_contact"] == CONTACT
    assert updated["settings"] == profiles.DEFAULT_SETTINGS | {"allow_template_sharing": True}
    again = await profiles.update(
        db_conn, principal, row["id"], changes(name="Bakery", inherit_contacts=False), NOW
    )
    assert again["name"] == "Bakery"
    assert again["settings"]["allow_template_sharing"] is True  # earlier flags stay
    assert again["settings"]["inherit_contacts"] is False
    with pytest.raises(ApiError) as raised:  # the billing contact cannot go while the profile pays
        await profiles.update(db_conn, principal, row["id"], changes(billing_contact=None), NOW)
    assert raised.value.code == "VALIDATION_004"
    cleared = await profiles.update(
        db_conn,
        principal,
        row["id"],
        changes(billing_model="organization", billing_contact=None),
        NOW,
    )
    assert (
        cleared["billing_contact"] is None
        and cleared["settings"]["billing_model"] == "organization"
    )


async def test_a_new_brand_keeps_its_identity_and_null_removes_it(db_conn: Any) -> None:
    principal = await org_principal(db_conn)
    row = await shop(db_conn, principal, brand=BRAND)
    brand = row["brand"]
    assert brand["compliance"] == BRAND.compliance and brand["created_at"] == NOW.isoformat()
    later = NOW + timedelta(hours=1)
    new_brand = Brand(contact={"email": "new@example.com"}, compliance={"brandName": "Shop 2"})
    updated = await profiles.update(db_conn, principal, row["id"], changes(brand=new_brand), later)
    assert (
        updated["brand"]["id"] == brand["id"] and updated["brand"]["created_at"] == NOW.isoformat()
    )
    assert updated["brand"]["updated_at"] == later.isoformat()
    assert updated["brand"]["compliance"] == {"brandName": "Shop 2"}
    assert (await profiles.update(db_conn, principal, row["id"], changes(brand=None), later))[
        "brand"
    ] is None


async def test_a_sending_number_belongs_to_one_profile_until_released(db_conn: Any) -> None:
    principal = await org_principal(db_conn)
    first, second = await shop(db_conn, principal), await shop(db_conn, principal)
    number = "+14155550123"
    set_number = changes(sending_phone_number=number)
    assert (await profiles.update(db_conn, principal, first["id"], set_number, NOW))[
        "sending_phone_number"
    ] == number
    assert (await sending_numbers.owner(db_conn, number))["id"] == first["id"]
    with pytest.raises(ApiError) as raised:
        await profiles.update(db_conn, principal, second["id"], set_number, NOW)
    assert raised.value.code == "RESOURCE_007"
    assert raised.value.details is not None and "sending_phone_number" in raised.value.details
    # One profile may use its number for WhatsApp too; clearing the SMS field keeps that claim.
    both = changes(whatsapp_phone_number=number)
    await profiles.update(db_conn, principal, first["id"], both, NOW)
    await profiles.update(db_conn, principal, first["id"], changes(sending_phone_number=None), NOW)
    assert (await sending_numbers.owner(db_conn, number))["id"] == first["id"]
    await profiles.update(db_conn, principal, first["id"], changes(whatsapp_phone_number=None), NOW)
    assert await sending_numbers.owner(db_conn, number) is None
    await profiles.update(db_conn, principal, second["id"], set_number, NOW)
    assert (await sending_numbers.owner(db_conn, number))["id"] == second["id"]


async def test_submitting_needs_the_prerequisites_once(db_conn: Any) -> None:
    principal = await org_principal(db_conn)
    row = await profiles.create(
        db_conn, principal, ProfileInput(name="Shop", billing_model="organization"), NOW
    )
    hook = "https://hooks.example.com/profile"
    with pytest.raises(ApiError) as raised:
        await profiles.complete(db_conn, principal, row["id"], hook, review_due_at=None)
    assert raised.value.code == "VALIDATION_004"
    assert set(raised.value.details or {}) == {"short_name", "brand"}
    await profiles.update(
        db_conn, principal, row["id"], changes(short_name="SHOP", inherit_tcr_brand=True), NOW
    )
    due = NOW + timedelta(seconds=3)
    status, body = await profiles.complete(db_conn, principal, row["id"], hook, review_due_at=due)
    assert (status, body["status"]) == (202, "submitted")
    stored = await profiles.get(db_conn, principal, row["id"])
    assert stored["status"] == "pending_review" and stored["review_webhook_url"] == hook
    status, body = await profiles.complete(
        db_conn, principal, row["id"], hook + "/2", review_due_at=due
    )
    assert (status, body["status"]) == (202, "in_progress")
    assert (await profiles.get(db_conn, principal, row["id"]))["review_webhook_url"] == hook + "/2"
