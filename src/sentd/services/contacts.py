"""Contacts: the phone numbers a customer messages, with what sentd knows of each."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sentd.auth.principal import Principal
from sentd.channels import available_channels
from sentd.db.repos import contacts, customers
from sentd.db.repos import messages as messages_repo
from sentd.db.scope import Scope
from sentd.db.types import Connection
from sentd.errors.exceptions import ApiError
from sentd.events.emit import emit
from sentd.events.specimens import contact_payload
from sentd.phones import InvalidPhoneNumber, describe
from sentd.services import quotas
from sentd.services.profiles import DEFAULT_SETTINGS


@dataclass(frozen=True, slots=True)
class Visible:
    """A contact as the principal sees it: its own, or inherited from the organization."""

    row: Any
    inherited: bool


@dataclass(frozen=True, slots=True)
class Change:
    """The result of an update, and whether the opt-out changed (an event for subscribers)."""

    contact: Visible
    opt_out_changed: bool


def _not_found(contact_id: uuid.UUID) -> ApiError:
    return ApiError("RESOURCE_001", {"id": [f"No contact {contact_id}"]})


async def inherited_from(conn: Connection, principal: Principal) -> uuid.UUID | None:
    """The organization whose contacts a profile also sees (when it inherits them)."""
    if not principal.acts_as_profile:
        return None
    profile = await customers.get(conn, principal.customer_id)
    settings = {**DEFAULT_SETTINGS, **((profile.settings if profile else None) or {})}
    return principal.organization_id if settings["inherit_contacts"] else None


def parse_phone(value: str, field: str) -> Any:
    try:
        return describe(value)
    except InvalidPhoneNumber as exc:
        raise ApiError("VALIDATION_002", {field: [str(exc)]}) from exc


async def create(conn: Connection, principal: Principal, phone_number: str) -> Visible:
    info = parse_phone(phone_number, "phone_number")
    await quotas.check(conn, principal, "contacts")
    channels = available_channels(info, livemode=principal.livemode)
    row = await contacts.insert(conn, principal.scope, phone_number, info, channels)
    if row is None:
        raise ApiError(
            "RESOURCE_007", {"phone_number": [f"A contact with {info.e164} already exists"]}
        )
    return Visible(row, inherited=False)


async def find_or_create(conn: Connection, scope: Scope, e164: str) -> Any:
    """The scope's contact for a number, created when new (sends create contacts this way)."""
    existing = await contacts.get_by_phone(conn, scope, e164)
    if existing is not None:
        return existing
    info = describe(e164)
    channels = available_channels(info, livemode=scope.livemode)
    row = await contacts.insert(conn, scope, e164, info, channels)
    return row if row is not None else await contacts.get_by_phone(conn, scope, e164)


async def get(conn: Connection, principal: Principal, contact_id: uuid.UUID) -> Visible:
    parent = await inherited_from(conn, principal)
    row = await contacts.get_visible(conn, principal.scope, parent, contact_id)
    if row is None:
        raise _not_found(contact_id)
    return Visible(row, inherited=row["customer_id"] != principal.customer_id)


async def _own(conn: Connection, principal: Principal, contact_id: uuid.UUID) -> Visible:
    visible = await get(conn, principal, contact_id)
    if visible.inherited:
        raise ApiError(
            "BUSINESS_001",
            {"id": ["This contact belongs to the organization; change it there"]},
        )
    return visible


async def update(
    conn: Connection,
    principal: Principal,
    contact_id: uuid.UUID,
    *,
    fields: set[str],
    default_channel: str | None,
    opt_out: bool | None,
    now: datetime,
) -> Change:
    current = (await _own(conn, principal, contact_id)).row
    channels = current["available_channels"].split(",")
    if default_channel is not None and default_channel not in channels:
        raise ApiError(
            "BUSINESS_007",
            {"default_channel": [f"This contact can take {current['available_channels']}"]},
        )
    row = await contacts.update(
        conn,
        contact_id,
        default_channel=default_channel,
        set_default_channel="default_channel" in fields,
        opt_out=opt_out,
        now=now,
    )
    changed = opt_out is not None and opt_out != current["opt_out"]
    if changed:
        event = "contact.opt_out" if opt_out else "contact.opt_in"
        await emit(
            conn,
            customer_id=principal.customer_id,
            organization_id=principal.organization_id,
            livemode=principal.livemode,
            event_type=event,
            discriminator=event.split(".", 1)[1],
            payload=contact_payload(row, principal.customer_id, source="API"),
            now=now,
        )
    return Change(Visible(row, inherited=False), opt_out_changed=changed)


async def delete(
    conn: Connection, principal: Principal, contact_id: uuid.UUID, now: datetime
) -> None:
    await _own(conn, principal, contact_id)
    await contacts.soft_delete(conn, contact_id, now)


async def page(
    conn: Connection,
    principal: Principal,
    *,
    search: str | None,
    channel: str | None,
    phone: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Visible], int]:
    parent = await inherited_from(conn, principal)
    rows, total = await contacts.page(
        conn,
        principal.scope,
        parent,
        search=search,
        channel=channel,
        phone_prefix=phone,
        limit=limit,
        offset=offset,
    )
    return [Visible(r, inherited=r["customer_id"] != principal.customer_id) for r in rows], total


async def message_summary(
    conn: Connection, principal: Principal, contact_id: uuid.UUID
) -> dict[str, Any]:
    """Counts of the contact's messages, and per channel the share that succeeded (sent,
    delivered, read or received) and failed, as percentages."""
    await get(conn, principal, contact_id)
    rows = await messages_repo.summary(conn, contact_id)
    return {
        "contact_id": str(contact_id),
        "message_count": sum(r["total"] for r in rows),
        "first_message_at": min((r["first_at"] for r in rows), default=None),
        "last_message_at": max((r["last_at"] for r in rows), default=None),
        "channels_used": [r["channel"] for r in rows],
        "channel_scores": [
            {
                "channel": r["channel"],
                "success_score": round(100 * r["ok"] / r["total"]),
                "fail_score": round(100 * r["failed"] / r["total"]),
            }
            for r in rows
        ],
    }
