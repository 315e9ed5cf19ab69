"""services.templates on a connection: creating from a `TemplateInput`, partial updates from
`TemplateChanges`, the review workflow (submit, verdicts, WhatsApp's events) and the quota."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sentd.auth.principal import Principal
from sentd.domain.templates import TemplateChanges, TemplateInput
from sentd.errors.exceptions import ApiError
from sentd.services import templates
from sentd.services.templates import ReviewPolicy
from tests.fast.factories import make_org, make_profile, principal_of

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
SIMULATOR = ReviewPolicy("simulator", 5.0)
MANUAL = ReviewPolicy("manual", 0.0)


def definition(text: str = "Hello {{0:name}}, your table is ready.") -> dict[str, Any]:
    variables = [{"id": 0, "name": "name", "type": "variable", "props": {"sample": "Ann"}}]
    return {
        "body": {"multiChannel": {"template": text, "variables": variables if "{{" in text else []}}
    }


def code_of(raised: pytest.ExceptionInfo[ApiError]) -> str:
    return raised.value.code


async def template_events(conn: Any, customer_id: Any) -> list[str]:
    """The statuses of the live-mode `templates` events of the customer, oldest first."""
    rows = await conn.fetch(
        "SELECT envelope FROM events WHERE customer_id = $1 AND livemode "
        "AND event_type = 'templates' ORDER BY created_at",
        customer_id,
    )
    return [r["envelope"]["payload"]["status"] for r in rows]


async def org_principal(conn: Any) -> Principal:
    return await principal_of(conn, (await make_org(conn)).live_key)


async def test_create_derives_what_is_not_given(db_conn: Any) -> None:
    principal = await org_principal(db_conn)
    created = await templates.create(
        db_conn, principal, TemplateInput(definition()), SIMULATOR, NOW
    )
    assert created.status == "DRAFT" and created.language == "en_US"
    assert created.category == "UTILITY" and created.name == "hello_name_your_table_is_ready"
    assert created.variables == ["name"] and "sms" in created.channels
    assert created.row["creation_source"] == "from-api"
    # The same text again gets the next free name; a given name is kept as given.
    again = await templates.create(db_conn, principal, TemplateInput(definition()), SIMULATOR, NOW)
    assert again.name == "hello_name_your_table_is_ready_2"
    named = await templates.create(
        db_conn,
        principal,
        TemplateInput(definition(), name="greeting", language="fr_FR", category="MARKETING"),
        SIMULATOR,
        NOW,
    )
    assert (named.name, named.language, named.category) == ("greeting", "fr_FR", "MARKETING")
    assert (await templates.find_visible(db_conn, principal, name="greeting")).id == named.id


async def test_create_refuses_a_taken_name_and_a_bad_definition(db_conn: Any) -> None:
    principal = await org_principal(db_conn)
    await templates.create(db_conn, principal, TemplateInput(definition(), name="a"), MANUAL, NOW)
    with pytest.raises(ApiError) as raised:
        await templates.create(
            db_conn, principal, TemplateInput(definition("Other"), name="a"), MANUAL, NOW
        )
    assert code_of(raised) == "RESOURCE_007"
    with pytest.raises(ApiError) as raised:
        await templates.create(
            db_conn, principal, TemplateInput({"body": {"multiChannel": {}}}), MANUAL, NOW
        )
    assert code_of(raised) == "VALIDATION_001"
    assert raised.value.details is not None
    assert "definition.body.multiChannel.template" in raised.value.details
    # An authentication config only goes with the AUTHENTICATION category.
    otp = definition() | {"authenticationConfig": {"codeExpirationMinutes": 5}}
    with pytest.raises(ApiError) as raised:
        await templates.create(
            db_conn, principal, TemplateInput(otp, category="UTILITY"), MANUAL, NOW
        )
    assert code_of(raised) == "VALIDATION_001"
    assert (
        await templates.create(db_conn, principal, TemplateInput(otp), MANUAL, NOW)
    ).category == "AUTHENTICATION"


async def test_the_templates_quota_counts_only_live_templates_of_the_mode(db_conn: Any) -> None:
    principal = await org_principal(db_conn)
    capped = dataclasses.replace(
        principal, limits=dataclasses.replace(principal.limits, templates=2)
    )
    first = await templates.create(db_conn, capped, TemplateInput(definition()), MANUAL, NOW)
    await templates.create(db_conn, capped, TemplateInput(definition()), MANUAL, NOW)
    with pytest.raises(ApiError) as raised:
        await templates.create(db_conn, capped, TemplateInput(definition()), MANUAL, NOW)
    assert code_of(raised) == "BUSINESS_008"
    assert raised.value.details is not None and "templates" in raised.value.details
    # The test mode counts apart; a deleted template frees its place.
    test_mode = dataclasses.replace(capped, livemode=False)
    await templates.create(db_conn, test_mode, TemplateInput(definition()), MANUAL, NOW)
    await templates.delete(db_conn, capped, first.id, delete_from_meta=False, now=NOW)
    await templates.create(db_conn, capped, TemplateInput(definition()), MANUAL, NOW)


async def test_submitting_plans_the_review_by_backend_and_mode(db_conn: Any) -> None:
    principal = await org_principal(db_conn)

    async def submitted(policy: ReviewPolicy, who: Principal) -> Any:
        given = TemplateInput(definition(), submit_for_review=True)
        return (await templates.create(db_conn, who, given, policy, NOW)).row

    row = await submitted(SIMULATOR, principal)
    assert row["status"] == "PENDING" and row["submitted_at"] == NOW
    assert (row["review_backend"], row["review_state"]) == ("simulator", "scheduled")
    assert row["review_due_at"] == NOW + timedelta(seconds=5)
    row = await submitted(MANUAL, principal)
    assert (row["review_backend"], row["review_state"], row["review_due_at"]) == (
        "manual",
        "awaiting_operator",
        None,
    )
    whatsapp = ReviewPolicy("whatsapp", 1.0)
    row = await submitted(whatsapp, principal)
    assert (row["review_backend"], row["review_state"]) == ("whatsapp", "submitting")
    # Test-mode templates never reach WhatsApp: the simulator reviews them.
    row = await submitted(whatsapp, dataclasses.replace(principal, livemode=False))
    assert row["review_backend"] == "simulator"
    assert await template_events(db_conn, principal.customer_id) == ["PENDING"] * 3


async def test_content_is_frozen_while_pending_but_the_name_may_change(db_conn: Any) -> None:
    principal = await org_principal(db_conn)
    given = TemplateInput(definition(), name="t", submit_for_review=True)
    pending = await templates.create(db_conn, principal, given, MANUAL, NOW)
    for changes in (
        TemplateChanges(definition=definition("Changed")),
        TemplateChanges(language="de_DE"),
        TemplateChanges(submit_for_review=True),
    ):
        with pytest.raises(ApiError) as raised:
            await templates.update(db_conn, principal, pending.id, changes, MANUAL, NOW)
        assert code_of(raised) == "CONFLICT_006"
    renamed = await templates.update(
        db_conn, principal, pending.id, TemplateChanges(name="renamed"), MANUAL, NOW
    )
    assert renamed.name == "renamed" and renamed.status == "PENDING"
    assert renamed.row["definition"] == pending.row["definition"]


async def test_an_edit_of_an_approved_template_returns_it_to_draft(db_conn: Any) -> None:
    principal = await org_principal(db_conn)
    given = TemplateInput(definition(), name="t", submit_for_review=True)
    pending = await templates.create(db_conn, principal, given, MANUAL, NOW)
    later = NOW + timedelta(minutes=1)
    approved = await templates.decide(db_conn, pending.row, approved=True, reason=None, now=later)
    assert approved["status"] == "APPROVED" and approved["is_published"]
    assert approved["review_backend"] is None and approved["reviewed_at"] == later
    # A rename alone keeps the verdict; new content needs a new one.
    kept = await templates.update(
        db_conn, principal, pending.id, TemplateChanges(name="t2"), MANUAL, NOW
    )
    assert kept.status == "APPROVED"
    edited = await templates.update(
        db_conn,
        principal,
        pending.id,
        TemplateChanges(definition=definition("Your order for {{0:name}} has shipped.")),
        MANUAL,
        NOW + timedelta(minutes=2),
    )
    assert edited.status == "DRAFT" and not edited.row["is_published"]
    assert edited.name == "t2" and edited.variables == ["name"]
    resubmitted = await templates.update(
        db_conn,
        principal,
        pending.id,
        TemplateChanges(category="MARKETING", submit_for_review=True),
        MANUAL,
        NOW + timedelta(minutes=3),
    )
    assert resubmitted.status == "PENDING" and resubmitted.category == "MARKETING"
    assert await template_events(db_conn, principal.customer_id) == [
        "PENDING",
        "APPROVED",
        "DRAFT",
        "PENDING",
    ]


async def test_a_verdict_on_a_template_that_moved_changes_nothing(db_conn: Any) -> None:
    principal = await org_principal(db_conn)
    given = TemplateInput(definition(), submit_for_review=True)
    pending = await templates.create(db_conn, principal, given, MANUAL, NOW)
    rejected = await templates.decide(db_conn, pending.row, approved=False, reason=None, now=NOW)
    assert rejected["status"] == "REJECTED"
    assert rejected["rejection_reason"] == "Rejected in review"
    # A second reviewer still holding the PENDING row decides too late.
    assert await templates.decide(db_conn, pending.row, approved=True, reason=None, now=NOW) is None
    with pytest.raises(ValueError):
        await templates.change_status(db_conn, rejected, "PENDING", now=NOW)  # no review plan
    with pytest.raises(ValueError):
        await templates.change_status(db_conn, rejected, "ARCHIVED", now=NOW)


async def test_whatsapps_events_move_only_from_the_statuses_they_name(db_conn: Any) -> None:
    principal = await org_principal(db_conn)
    given = TemplateInput(definition(), submit_for_review=True)
    pending = await templates.create(db_conn, principal, given, MANUAL, NOW)
    await db_conn.execute(
        "UPDATE templates SET whatsapp_template_id = 'wa-1' WHERE id = $1", pending.id
    )

    async def event(name: str) -> str | None:
        row = await templates.apply_whatsapp_status(
            db_conn, whatsapp_template_id="wa-1", event=name, reason=None, now=NOW
        )
        return row["status"] if row is not None else None

    assert await event("PAUSED") is None  # only an APPROVED template pauses
    assert await event("approved") == "APPROVED"
    assert await event("APPROVED") is None  # repeated
    assert await event("PAUSED") == "PAUSED"
    with pytest.raises(ApiError) as raised:  # WhatsApp's pause freezes the content
        await templates.update(
            db_conn, principal, pending.id, TemplateChanges(language="de_DE"), MANUAL, NOW
        )
    assert code_of(raised) == "VALIDATION_001"
    assert await event("REINSTATED") == "APPROVED"
    assert await event("SOMETHING_NEW") is None
    assert (
        await templates.apply_whatsapp_status(
            db_conn, whatsapp_template_id="wa-unknown", event="APPROVED", reason=None, now=NOW
        )
        is None
    )


async def test_a_profile_uses_but_cannot_change_its_organizations_template(db_conn: Any) -> None:
    org = await make_org(db_conn)
    profile = await make_profile(db_conn, org)
    principal = await principal_of(db_conn, org.live_key)
    shared = await templates.create(
        db_conn, principal, TemplateInput(definition(), name="shared"), MANUAL, NOW
    )
    as_profile = principal.acting_as(profile["id"])
    seen = await templates.find_visible(db_conn, as_profile, name="shared")
    assert seen.id == shared.id and seen.is_inherited
    with pytest.raises(ApiError) as raised:
        await templates.update(
            db_conn, as_profile, shared.id, TemplateChanges(name="mine"), MANUAL, NOW
        )
    assert code_of(raised) == "TEMPLATE_001"
    # Its own template of the same name comes first.
    own = await templates.create(
        db_conn, as_profile, TemplateInput(definition(), name="shared"), MANUAL, NOW
    )
    assert (await templates.find_visible(db_conn, as_profile, name="shared")).id == own.id
    with pytest.raises(ApiError) as raised:
        await templates.get(db_conn, await org_principal(db_conn), shared.id)
    assert code_of(raised) == "RESOURCE_002"
