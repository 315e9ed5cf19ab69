"""services.webhooks on a connection: create, ownership, secret rotation, pausing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sentd.domain.webhooks import WebhookInput
from sentd.errors.exceptions import ApiError
from sentd.services import webhooks
from tests.fast.factories import make_org, principal_of

NOW = datetime(2026, 3, 1, tzinfo=UTC)
HOOK = WebhookInput(
    display_name="Orders", endpoint_url="https://hooks.example.com/a", event_types=("messages",)
)


async def test_create_gives_a_secret_and_only_the_owner_sees_it(db_conn: Any) -> None:
    org, other = await make_org(db_conn), await make_org(db_conn)
    principal = await principal_of(db_conn, org.live_key)
    hook = await webhooks.create(db_conn, principal, HOOK, NOW)
    assert hook.signing_secret.startswith("whsec_")
    assert hook.retry_count == 3 and hook.timeout_seconds == 30
    assert (await webhooks.get(db_conn, principal, hook.id)).id == hook.id
    for stranger in (
        await principal_of(db_conn, other.live_key),
        await principal_of(db_conn, org.test_key),
    ):
        with pytest.raises(ApiError) as raised:
            await webhooks.get(db_conn, stranger, hook.id)
        assert raised.value.status == 404


async def test_rotating_the_secret_replaces_it(db_conn: Any) -> None:
    org = await make_org(db_conn)
    principal = await principal_of(db_conn, org.live_key)
    hook = await webhooks.create(db_conn, principal, HOOK, NOW)
    secret = await webhooks.rotate_secret(db_conn, principal, hook.id, NOW)
    assert secret != hook.signing_secret
    assert (await webhooks.get(db_conn, principal, hook.id)).signing_secret == secret


async def test_reenabling_forgives_past_failures(db_conn: Any) -> None:
    org = await make_org(db_conn)
    principal = await principal_of(db_conn, org.live_key)
    hook = await webhooks.create(db_conn, principal, HOOK, NOW)
    await db_conn.execute(
        "UPDATE webhooks SET is_active = false, consecutive_failures = 9, "
        "disabled_reason = 'failing' WHERE id = $1",
        hook.id,
    )
    paused = await webhooks.set_active(db_conn, principal, hook.id, False, NOW)
    assert paused.consecutive_failures == 9  # pausing keeps the record
    active = await webhooks.set_active(db_conn, principal, hook.id, True, NOW)
    assert active.is_active and active.consecutive_failures == 0
    assert active.disabled_reason is None


async def test_a_deleted_webhook_is_gone(db_conn: Any) -> None:
    org = await make_org(db_conn)
    principal = await principal_of(db_conn, org.live_key)
    hook = await webhooks.create(db_conn, principal, HOOK, NOW)
    await webhooks.delete(db_conn, principal, hook.id, NOW)
    with pytest.raises(ApiError):
        await webhooks.get(db_conn, principal, hook.id)
