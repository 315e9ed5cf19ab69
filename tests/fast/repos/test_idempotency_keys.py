"""db.repos.idempotency_keys: claiming a key, its lease, the stored answer, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sentd.db.repos import idempotency_keys as keys
from tests.fast.factories import make_org

LEASE = timedelta(seconds=30)
TTL = timedelta(hours=24)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def claim(conn: Any, scope: Any, request_id: str, now: datetime, key: str = "k1") -> bool:
    return await keys.claim(
        conn,
        scope,
        key,
        method="POST",
        path="/v3/messages",
        request_id=request_id,
        now=now,
        lease=LEASE,
        ttl=TTL,
    )


async def test_one_request_holds_a_key_until_its_lease_runs_out(db_conn: Any) -> None:
    org = await make_org(db_conn)
    scope = org.scope()
    assert await claim(db_conn, scope, "req-1", NOW)
    assert not await claim(db_conn, scope, "req-2", NOW + LEASE / 2)
    # Another customer, or the other mode, has keys of its own.
    assert await claim(db_conn, (await make_org(db_conn)).scope(), "req-3", NOW)
    assert await claim(db_conn, org.scope(False), "req-4", NOW)
    # A holder that went away: its lease ends and the key can be claimed again.
    assert await claim(db_conn, scope, "req-5", NOW + LEASE)
    row = await keys.get(db_conn, scope, "k1")
    assert row["owner_request_id"] == "req-5" and row["state"] == "in_flight"


async def test_the_holder_stores_the_answer_which_then_stays(db_conn: Any) -> None:
    org = await make_org(db_conn)
    scope = org.scope()
    assert await claim(db_conn, scope, "req-1", NOW)
    answer = {"status": 202, "headers": {"content-type": "application/json"}, "body": b"{}"}
    assert not await keys.complete(db_conn, scope, "k1", request_id="req-2", **answer)
    assert await keys.complete(db_conn, scope, "k1", request_id="req-1", **answer)
    row = await keys.get(db_conn, scope, "k1")
    assert row["state"] == "completed" and row["response_status"] == 202
    assert row["response_headers"] == {"content-type": "application/json"}
    assert bytes(row["response_body"]) == b"{}"
    # Completed, it is not claimed again before it expires, and then it is.
    assert not await claim(db_conn, scope, "req-3", NOW + 2 * LEASE)
    assert await claim(db_conn, scope, "req-3", NOW + TTL)
    assert (await keys.get(db_conn, scope, "k1"))["response_status"] is None


async def test_release_frees_only_the_holders_in_flight_key(db_conn: Any) -> None:
    org = await make_org(db_conn)
    scope = org.scope()
    assert await claim(db_conn, scope, "req-1", NOW)
    await keys.release(db_conn, scope, "k1", request_id="req-2")
    assert await keys.get(db_conn, scope, "k1") is not None
    await keys.release(db_conn, scope, "k1", request_id="req-1")
    assert await keys.get(db_conn, scope, "k1") is None


async def test_expired_keys_are_deleted(db_conn: Any) -> None:
    org = await make_org(db_conn)
    scope = org.scope()
    assert await claim(db_conn, scope, "req-1", NOW, key="old")
    assert await claim(db_conn, scope, "req-2", NOW + TTL, key="new")
    assert await keys.delete_expired(db_conn, NOW + TTL) == 1
    assert await keys.get(db_conn, scope, "old") is None
    assert await keys.get(db_conn, scope, "new") is not None
