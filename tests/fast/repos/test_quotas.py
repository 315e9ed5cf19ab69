"""db.repos.quotas: what counts against each quota of an organization (its profiles' rows too,
in the mode where the resource has one, deleted rows never), and services.quotas's refusal."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from sentd.db.repos import contacts as contact_rows
from sentd.db.repos import quotas
from sentd.domain.templates import TemplateInput
from sentd.domain.webhooks import WebhookInput
from sentd.errors.exceptions import ApiError
from sentd.services import quotas as quota_service
from sentd.services import templates, webhooks
from sentd.services.templates import ReviewPolicy
from tests.fast.factories import make_contact, make_org, make_profile, principal_of

NOW = datetime(2026, 3, 1, tzinfo=UTC)
HOOK = WebhookInput(
    display_name="Orders", endpoint_url="https://hooks.example.com/a", event_types=("messages",)
)
GREETING = TemplateInput({"body": {"multiChannel": {"template": "Hello there", "variables": []}}})


async def test_each_quota_counts_the_organization_and_its_profiles_in_one_mode(
    db_conn: Any,
) -> None:
    org, other = await make_org(db_conn), await make_org(db_conn)
    profile = await make_profile(db_conn, org)
    principal = await principal_of(db_conn, org.live_key)
    as_profile = principal.acting_as(profile["id"])
    test_mode = await principal_of(db_conn, org.test_key)

    async def usage(quota: str, livemode: bool = True) -> int:
        return await quotas.usage(db_conn, quota, org.id, livemode)

    assert {quota: await usage(quota) for quota in quotas.QUOTAS} == {
        "profiles": 1,
        "contacts": 0,
        "templates": 0,
        "webhooks": 0,
    }
    for who, number in ((principal, "+14155550101"), (as_profile, "+14155550102")):
        await make_contact(db_conn, who.scope, number)
    await make_contact(db_conn, test_mode.scope, "+14155550103")
    await make_contact(db_conn, (await principal_of(db_conn, other.live_key)).scope)
    for who in (principal, as_profile, test_mode):
        await templates.create(db_conn, who, GREETING, ReviewPolicy("manual", 0), NOW)
        await webhooks.create(db_conn, who, HOOK, NOW)
    assert (await usage("contacts"), await usage("contacts", livemode=False)) == (2, 1)
    assert (await usage("templates"), await usage("templates", livemode=False)) == (2, 1)
    assert (await usage("webhooks"), await usage("webhooks", livemode=False)) == (2, 1)
    assert await usage("profiles", livemode=False) == 1  # profiles have no mode
    assert await quota_service.usage(db_conn, as_profile, "contacts") == 2
    with pytest.raises(KeyError):
        await usage("messages")


async def test_deleted_rows_do_not_count(db_conn: Any) -> None:
    org = await make_org(db_conn)
    profile = await make_profile(db_conn, org)
    contact = await make_contact(db_conn, org.scope())
    await make_contact(db_conn, org.scope(), "+14155550199")
    await contact_rows.soft_delete(db_conn, contact["id"], NOW)
    await db_conn.execute("UPDATE customers SET deleted_at = now() WHERE id = $1", profile["id"])
    assert await quotas.usage(db_conn, "contacts", org.id, True) == 1
    assert await quotas.usage(db_conn, "profiles", org.id, True) == 0


async def test_check_refuses_what_would_pass_the_limit(db_conn: Any) -> None:
    org = await make_org(db_conn)
    principal = await principal_of(db_conn, org.live_key)
    capped = dataclasses.replace(
        principal, limits=dataclasses.replace(principal.limits, contacts=3)
    )
    await make_contact(db_conn, org.scope(), "+14155550101")
    await make_contact(db_conn, org.scope(), "+14155550102")
    await quota_service.check(db_conn, capped, "contacts")  # 2 + 1 fits
    with pytest.raises(ApiError) as raised:
        await quota_service.check(db_conn, capped, "contacts", adding=2)
    assert raised.value.code == "BUSINESS_008"
    assert raised.value.details == {
        "contacts": ["The contacts quota is 3; 2 in use, 2 more requested"]
    }
