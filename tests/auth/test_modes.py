"""Live and test mode: a test key sees only test data (for now: the test balance)."""

from __future__ import annotations

import httpx

from sentd.db.scope import Scope
from sentd.services import billing
from tests.contract import assert_ok
from tests.factories import make_org
from tests.live_server import LiveServer


def balance(client: httpx.Client, key: str) -> dict[str, object]:
    data = assert_ok(client.get("/v3/me", headers={"x-api-key": key}))
    return {"mode": data["mode"], **data["balance"]}


def test_each_mode_sees_its_own_balance(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server, live_micros=10_000_000, test_micros=5_000_000)
    assert balance(client, org.live_key) == {
        "mode": "live",
        "amount": 10.0,
        "amount_micros": 10_000_000,
        "currency": "USD",
    }
    assert balance(client, org.test_key) == {
        "mode": "test",
        "amount": 5.0,
        "amount_micros": 5_000_000,
        "currency": "USD",
    }
    server.run(
        billing.credit(
            server.app.state.db, Scope(org.id, True), 50_000, currency="USD", reference="test"
        )
    )
    assert balance(client, org.live_key)["amount_micros"] == 10_050_000
    assert balance(client, org.test_key)["amount_micros"] == 5_000_000


def test_debit_never_goes_below_zero(server: LiveServer) -> None:
    from sentd.db.repos import balances

    org = make_org(server, live_micros=1_000)

    async def debit(amount: int) -> object:
        async with server.app.state.db.transaction() as conn:
            return await balances.apply(
                conn,
                Scope(org.id, True),
                amount_micros=-amount,
                currency="USD",
                reason="test",
                reference=None,
            )

    assert server.run(debit(1_001)) is None
    row = server.run(debit(1_000))
    assert row is not None and row["amount_micros"] == 0

    async def ledger() -> list[int]:
        async with server.app.state.db.connection() as conn:
            rows = await conn.fetch(
                "SELECT amount_micros FROM ledger_entries WHERE customer_id = $1 AND livemode "
                "ORDER BY created_at",
                org.id,
            )
        return [r["amount_micros"] for r in rows]

    assert server.run(ledger()) == [0, 1_000, -1_000]
