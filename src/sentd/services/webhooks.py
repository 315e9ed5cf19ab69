"""Webhooks: the endpoints a customer registers, their secrets, and the delivery log."""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import datetime
from typing import Any

from sentd import outbound
from sentd.auth.principal import Principal
from sentd.db.repos import webhooks
from sentd.db.repos.webhooks import Webhook as Webhook  # what the callers get
from sentd.db.types import Connection
from sentd.domain.webhooks import WebhookInput
from sentd.errors.exceptions import ApiError
from sentd.events import sender
from sentd.events.catalog import normalize_subscription
from sentd.events.emit import envelope
from sentd.events.specimens import specimen
from sentd.ids import new_id
from sentd.outbound.destinations import ForbiddenDestination, check_when_saved
from sentd.services import quotas

SECRET_BYTES = 32


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _not_found(webhook_id: uuid.UUID) -> ApiError:
    return ApiError("RESOURCE_008", {"id": [f"No webhook {webhook_id}"]})


async def check_destination(url: str, allow_private: bool, field: str = "endpoint_url") -> None:
    """Refuse internal destinations when a customer URL is saved (literal hosts, and names that
    resolve inward now); every connection is checked again when it is made. Called before the
    operation's transaction: no database connection waits on DNS."""
    try:
        await check_when_saved(url, allow_private)
    except ForbiddenDestination as exc:
        raise ApiError("VALIDATION_001", {field: [str(exc)]}) from exc


async def get(
    conn: Connection, principal: Principal, webhook_id: uuid.UUID, lock: bool = False
) -> Webhook:
    row = await webhooks.get(conn, principal.scope, webhook_id, lock=lock)
    if row is None:
        raise _not_found(webhook_id)
    return row


async def page(
    conn: Connection,
    principal: Principal,
    *,
    search: str | None,
    is_active: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[Webhook], int]:
    """The principal's webhooks (name or URL matching `search`), and how many match."""
    return await webhooks.page(
        conn, principal.scope, search=search, is_active=is_active, limit=limit, offset=offset
    )


async def delivery_log(
    conn: Connection,
    principal: Principal,
    webhook_id: uuid.UUID,
    *,
    search: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    """A page of one of the principal's webhooks' deliveries, and how many match."""
    await get(conn, principal, webhook_id)
    return await webhooks.delivery_log(conn, webhook_id, search=search, limit=limit, offset=offset)


def _columns(webhook: WebhookInput) -> dict[str, Any]:
    return {
        "display_name": webhook.display_name,
        "endpoint_url": webhook.endpoint_url,
        "event_types": list(dict.fromkeys(webhook.event_types)),
        "event_filters": webhook.event_filters,
        "sender_profile": webhook.sender_profile,
        "retry_count": webhook.retry_count,
        "timeout_seconds": webhook.timeout_seconds,
    }


async def create(
    conn: Connection, principal: Principal, webhook: WebhookInput, now: datetime
) -> Webhook:
    """A new webhook (its destination checked beforehand: `check_destination`)."""
    await quotas.check(conn, principal, "webhooks")
    values = _columns(webhook) | {"signing_secret": new_secret()}
    return await webhooks.insert(conn, principal.scope, values, now)


async def replace(
    conn: Connection,
    principal: Principal,
    webhook_id: uuid.UUID,
    webhook: WebhookInput,
    now: datetime,
) -> Webhook:
    await get(conn, principal, webhook_id, lock=True)
    return _locked(await webhooks.update(conn, webhook_id, _columns(webhook), now))


async def delete(
    conn: Connection, principal: Principal, webhook_id: uuid.UUID, now: datetime
) -> None:
    await get(conn, principal, webhook_id, lock=True)
    await webhooks.soft_delete(conn, webhook_id, now)


async def rotate_secret(
    conn: Connection, principal: Principal, webhook_id: uuid.UUID, now: datetime
) -> str:
    """A new secret, in force at once: deliveries are signed when sent, so none goes out with
    the old one after this commits."""
    await get(conn, principal, webhook_id, lock=True)
    secret = new_secret()
    await webhooks.update(conn, webhook_id, {"signing_secret": secret}, now)
    return secret


async def set_active(
    conn: Connection, principal: Principal, webhook_id: uuid.UUID, active: bool, now: datetime
) -> Webhook:
    await get(conn, principal, webhook_id, lock=True)
    values: dict[str, Any] = {"is_active": active}
    if active:  # re-enabling forgives past failures
        values |= {"consecutive_failures": 0, "disabled_reason": None}
    return _locked(await webhooks.update(conn, webhook_id, values, now))


def _locked(updated: Webhook | None) -> Webhook:
    """An update of a webhook this transaction holds locked (`get(lock=True)`): it is there."""
    assert updated is not None
    return updated


async def send_test(
    webhook: Webhook, event_type: str, now: datetime, allow_private: bool
) -> sender.Outcome:
    """One signed specimen event, sent now, once, without retries."""
    canonical = normalize_subscription(event_type)
    if canonical is None or ("." not in canonical and canonical != "templates"):
        raise ApiError("VALIDATION_006", {"event_type": [f"Not an event type: {event_type}"]})
    _, payload = specimen(canonical, webhook.customer_id, now)
    body, headers = sender.signed_request(
        secret=webhook.signing_secret,
        webhook_id=webhook.id,
        event_id=new_id(),
        event_type=canonical,
        envelope=envelope(canonical, payload, now),
        now=now,
    )
    return await sender.send(
        outbound.for_customers(allow_private),
        url=webhook.endpoint_url,
        body=body,
        headers=headers,
        timeout_s=webhook.timeout_seconds,
    )


async def retry_delivery(
    conn: Connection,
    principal: Principal,
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
    now: datetime,
) -> None:
    """Send a failed delivery again (the dashboard's "retry"): the delivery loop picks it up."""
    await get(conn, principal, webhook_id, lock=True)
    if await webhooks.requeue_failed(conn, webhook_id, delivery_id, now) is None:
        raise ApiError("VALIDATION_001", {"delivery_id": ["Only a failed delivery can be retried"]})
