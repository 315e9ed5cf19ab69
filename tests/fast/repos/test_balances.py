"""db.repos.balances: credits, debits that never go below zero, and the ledger behind them."""

from __future__ import annotations

from typing import Any

from sentd.db.repos import balances
from tests.fast.factories import make_org


async def ledger(conn: Any, org_id: Any, livemode: bool) -> list[tuple[int, int, str]]:
    """The entries as (amount, balance after, reason), sorted (one transaction: one now())."""
    rows = await conn.fetch(
        "SELECT amount_micros, balance_after_micros, reason FROM ledger_entries "
        "WHERE customer_id = $1 AND livemode = $2",
        org_id,
        livemode,
    )
    return sorted((r["amount_micros"], r["balance_after_micros"], r["reason"]) for r in rows)


async def test_credits_and_debits_move_the_balance_and_write_the_ledger(db_conn: Any) -> None:
    org = await make_org(db_conn, live_micros=0)
    scope = org.scope()
    assert (await balances.get(db_conn, scope))["amount_micros"] == 0  # opened empty
    credited = await balances.apply(
        db_conn, scope, amount_micros=5_000, currency="USD", reason="credit", reference="r1"
    )
    assert credited["amount_micros"] == 5_000 and credited["currency"] == "USD"
    debited = await balances.apply(
        db_conn, scope, amount_micros=-2_000, currency="USD", reason="send", reference=None
    )
    assert debited["amount_micros"] == 3_000
    assert (await balances.get(db_conn, scope))["amount_micros"] == 3_000
    assert await ledger(db_conn, org.id, True) == [
        (-2_000, 3_000, "send"),
        (0, 0, "open"),
        (5_000, 5_000, "credit"),
    ]
    # The test-mode balance is another account.
    assert (await balances.get(db_conn, org.scope(False)))["amount_micros"] == 0


async def test_a_debit_beyond_the_balance_is_refused_and_leaves_no_trace(db_conn: Any) -> None:
    org = await make_org(db_conn, live_micros=1_000)
    scope = org.scope()
    before = await ledger(db_conn, org.id, True)
    refused = await balances.apply(
        db_conn, scope, amount_micros=-1_001, currency="USD", reason="send", reference=None
    )
    assert refused is None
    assert (await balances.get(db_conn, scope))["amount_micros"] == 1_000
    assert await ledger(db_conn, org.id, True) == before
    exact = await balances.apply(
        db_conn, scope, amount_micros=-1_000, currency="USD", reason="send", reference=None
    )
    assert exact["amount_micros"] == 0
