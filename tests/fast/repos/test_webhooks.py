"""db.repos.webhooks: a customer's webhooks, and which of them take an event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sentd.db.repos import webhooks
from sentd.db.scope import Scope
from tests.fast.factories import make_org, make_profile

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def values(name: str = "Orders", url: str = "https://hooks.example.com/a") -> dict[str, Any]:
    return {
        "display_name": name,
        "endpoint_url": url,
        "event_types": ["messages"],
        "event_filters": None,
        "sender_profile": None,
        "signing_secret": "whsec_test",
        "retry_count": 3,
        "timeout_seconds": 30,
    }


async def test_a_webhook_is_seen_in_its_own_scope_only(db_conn: Any) -> None:
    org, other = await make_org(db_conn), await make_org(db_conn)
    hook = await webhooks.insert(db_conn, org.scope(), values(), NOW)
    assert hook.is_active is True and hook.consecutive_failures == 0
    assert hook.event_types == ["messages"] and hook.created_at == NOW
    assert (await webhooks.get(db_conn, org.scope(), hook.id)).id == hook.id
    assert await webhooks.get(db_conn, org.scope(False), hook.id) is None
    assert await webhooks.get(db_conn, other.scope(), hook.id) is None
    assert (await webhooks.get_any(db_conn, hook.id)).customer_id == org.id


async def test_update_and_soft_delete(db_conn: Any) -> None:
    org = await make_org(db_conn)
    hook = await webhooks.insert(db_conn, org.scope(), values(), NOW)
    later = datetime(2026, 3, 2, tzinfo=UTC)
    changed = await webhooks.update(db_conn, hook.id, {"display_name": "Renamed"}, later)
    assert changed.display_name == "Renamed" and changed.updated_at == later
    await webhooks.soft_delete(db_conn, hook.id, later)
    assert await webhooks.get(db_conn, org.scope(), hook.id) is None
    assert await webhooks.get_any(db_conn, hook.id) is None


async def test_search_and_the_active_filter(db_conn: Any) -> None:
    org = await make_org(db_conn)
    orders = await webhooks.insert(db_conn, org.scope(), values("Orders"), NOW)
    await webhooks.insert(db_conn, org.scope(), values("Billing", "https://b.example.com"), NOW)
    await webhooks.update(db_conn, orders.id, {"is_active": False}, NOW)

    async def names(**filters: Any) -> list[str]:
        options: dict[str, Any] = {"search": None, "is_active": None}
        rows, total = await webhooks.page(
            db_conn, org.scope(), **(options | filters), limit=10, offset=0
        )
        assert total == len(rows)
        return sorted(r.display_name for r in rows)

    assert await names() == ["Billing", "Orders"]
    assert await names(is_active=True) == ["Billing"]
    assert await names(is_active=False) == ["Orders"]
    assert await names(search="%b.example%") == ["Billing"]


async def test_a_profiles_event_goes_to_its_own_and_its_organizations_webhooks(
    db_conn: Any,
) -> None:
    org, other = await make_org(db_conn), await make_org(db_conn)
    profile = await make_profile(db_conn, org)
    profile_scope = Scope(profile["id"], True)
    own = await webhooks.insert(db_conn, profile_scope, values("Profile's"), NOW)
    parent = await webhooks.insert(db_conn, org.scope(), values("Organization's"), NOW)
    paused = await webhooks.insert(db_conn, org.scope(), values("Paused"), NOW)
    await webhooks.update(db_conn, paused.id, {"is_active": False}, NOW)
    gone = await webhooks.insert(db_conn, org.scope(), values("Deleted"), NOW)
    await webhooks.soft_delete(db_conn, gone.id, NOW)
    await webhooks.insert(db_conn, org.scope(False), values("Test mode"), NOW)
    await webhooks.insert(db_conn, other.scope(), values("Someone else's"), NOW)

    found = await webhooks.subscribers(db_conn, profile["id"], org.id, True)
    assert sorted(r["id"] for r in found) == sorted([own.id, parent.id])
    # The organization's own events do not reach its profiles' webhooks.
    found = await webhooks.subscribers(db_conn, org.id, org.id, True)
    assert [r["id"] for r in found] == [parent.id]
