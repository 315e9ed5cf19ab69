"""services.contacts on a connection: the rules of creating, reading and deleting contacts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sentd.errors.exceptions import ApiError
from sentd.services import contacts
from tests.fast.factories import make_org, make_profile, principal_of


async def test_create_get_and_delete(db_conn: Any) -> None:
    org = await make_org(db_conn)
    principal = await principal_of(db_conn, org.live_key)
    created = await contacts.create(db_conn, principal, "+14155550100")
    assert created.row["phone_e164"] == "+14155550100" and not created.inherited
    assert (await contacts.get(db_conn, principal, created.row["id"])).row == created.row
    await contacts.delete(db_conn, principal, created.row["id"], datetime.now(UTC))
    with pytest.raises(ApiError) as raised:
        await contacts.get(db_conn, principal, created.row["id"])
    assert raised.value.code == "RESOURCE_001"


async def test_a_number_is_one_contact_and_must_be_a_number(db_conn: Any) -> None:
    org = await make_org(db_conn)
    principal = await principal_of(db_conn, org.live_key)
    await contacts.create(db_conn, principal, "+14155550100")
    with pytest.raises(ApiError) as raised:
        await contacts.create(db_conn, principal, "+14155550100")
    assert raised.value.code == "RESOURCE_007"
    with pytest.raises(ApiError) as raised:
        await contacts.create(db_conn, principal, "not a number")
    assert raised.value.code == "VALIDATION_002"
    assert raised.value.details is not None and "phone_number" in raised.value.details
    # The test-mode key is another scope: the same number is a new contact there.
    test = await principal_of(db_conn, org.test_key)
    assert (await contacts.create(db_conn, test, "+14155550100")).row["livemode"] is False


async def test_a_profile_reads_but_does_not_change_its_organizations_contacts(
    db_conn: Any,
) -> None:
    org = await make_org(db_conn)
    profile = await make_profile(db_conn, org)
    principal = await principal_of(db_conn, org.live_key)
    shared = await contacts.create(db_conn, principal, "+14155550100")
    as_profile = principal.acting_as(profile["id"])
    seen = await contacts.get(db_conn, as_profile, shared.row["id"])
    assert seen.inherited
    with pytest.raises(ApiError) as raised:
        await contacts.delete(db_conn, as_profile, shared.row["id"], datetime.now(UTC))
    assert raised.value.code == "BUSINESS_001"


async def test_find_or_create_returns_the_existing_contact(db_conn: Any) -> None:
    org = await make_org(db_conn)
    first = await contacts.find_or_create(db_conn, org.scope(), "+14155550100")
    again = await contacts.find_or_create(db_conn, org.scope(), "+14155550100")
    assert first["id"] == again["id"]
