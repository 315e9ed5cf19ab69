"""The dispatcher's batched path: a claimed batch is submitted with bounded concurrency and its
outcomes are recorded together (SENT in bulk, retries, failures), keeping every guarantee of the
per-message path. The loops are driven by hand (no background workers) on the server's loop."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from sentd.db.repos import messages
from sentd.providers.base import OutboundMessage, ProviderError, Submission
from sentd.services import lifecycle
from sentd.workers import dispatcher
from sentd.workers.runner import WorkerContext
from tests.conftest import build_app
from tests.contract import assert_ok
from tests.factories import make_org
from tests.live_server import LiveServer

SMS_PRICE = 7_900  # US SMS, micro-units


class ScriptedProvider:
    """Stands in for the live SMS provider. By the number's last four digits: `9001` fails once
    with a transient error, `9002` always fails transiently, `9003` is refused, `9004` has its
    DELIVERED receipt arrive before SENT is recorded, `9005` is cancelled while it is being
    submitted. Every other number is accepted."""

    name = "twilio"
    channels = frozenset({"sms"})

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.calls: dict[uuid.UUID, int] = {}

    async def submit(self, message: OutboundMessage) -> Submission:
        self.calls[message.id] = self.calls.get(message.id, 0) + 1
        ending = message.to[-4:]
        provider_id = f"scripted-{message.id}"
        if ending == "9001" and self.calls[message.id] == 1:
            raise ProviderError("flaky", transient=True, reason_code="INTERNAL_003")
        if ending == "9002":
            raise ProviderError("down", transient=True, reason_code="INTERNAL_003")
        if ending == "9003":
            raise ProviderError("refused", transient=False, reason_code="DELIVERY_001")
        db = self.server.app.state.db
        now = self.server.app.state.clock.now()
        if ending == "9004":
            async with db.transaction() as conn:
                await lifecycle.record_provider_status(
                    conn,
                    provider=self.name,
                    provider_message_id=provider_id,
                    status="DELIVERED",
                    now=now,
                )
        if ending == "9005":
            async with db.transaction() as conn:
                row = await messages.get(conn, message.id, lock=True)
                assert row is not None
                await lifecycle.transition(conn, row, "CANCELLED", description="Cancelled", now=now)
        return Submission(provider_id)


@pytest.fixture(scope="module")
def live(database_url: str) -> Iterator[LiveServer]:
    server = LiveServer(
        build_app(
            database_url,
            sms_provider="twilio",
            dispatch_retry_base_s=1.0,
            dispatch_max_attempts=2,
            worker_concurrency=4,
        )
    ).start()
    yield server
    server.stop()


@pytest.fixture
def provider(live: LiveServer) -> ScriptedProvider:
    scripted = ScriptedProvider(live)
    live.app.state.providers.register(scripted)
    return scripted


def context(live: LiveServer) -> WorkerContext:
    state = live.app.state
    return WorkerContext(state.db, state.settings, state.idempotency, state.clock, state.providers)


def send(live: LiveServer, key: str, numbers: list[str]) -> list[str]:
    with httpx.Client(base_url=live.base_url, timeout=30) as http:
        body = {"to": numbers, "text": "batched", "channel": ["sms"]}
        data = assert_ok(http.post("/v3/messages", json=body, headers={"x-api-key": key}), 202)
    by_number = {r["to"]: r["message_id"] for r in data["recipients"]}
    return [by_number[n] for n in numbers]


def state_of(live: LiveServer, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per message: its row, its status events, and its `message.*` webhook event types."""

    async def go() -> dict[str, dict[str, Any]]:
        async with live.app.state.db.connection() as conn:
            out: dict[str, dict[str, Any]] = {}
            for message_id in ids:
                row = await conn.fetchrow(
                    "SELECT * FROM messages WHERE id = $1", uuid.UUID(message_id)
                )
                events = await conn.fetch(
                    "SELECT status, reason_code FROM message_events WHERE message_id = $1 "
                    "ORDER BY id",
                    row["id"],
                )
                hooks = await conn.fetch(
                    "SELECT event_type FROM events WHERE envelope->'payload'->>'message_id' = $1 "
                    "ORDER BY created_at, event_type",
                    message_id,
                )
                out[message_id] = {
                    "row": row,
                    "events": [(e["status"], e["reason_code"]) for e in events],
                    "hooks": [h["event_type"] for h in hooks],
                }
            return out

    return live.run(go())


def balance(live: LiveServer, customer_id: uuid.UUID) -> int:
    async def go() -> int:
        async with live.app.state.db.connection() as conn:
            amount: int = await conn.fetchval(
                "SELECT amount_micros FROM balances WHERE customer_id = $1 AND livemode",
                customer_id,
            )
            return amount

    return live.run(go())


def dispatch(live: LiveServer) -> None:
    live.run(dispatcher.dispatch_due(context(live)))


def test_one_transient_failure_in_a_batch(live: LiveServer, provider: ScriptedProvider) -> None:
    org = make_org(live)
    before = balance(live, org.id)
    numbers = ["+14155559001", "+14155558101", "+14155558102", "+14155558103", "+14155559003"]
    flaky, *fine, refused = send(live, org.live_key, numbers)
    assert balance(live, org.id) == before - 5 * SMS_PRICE

    dispatch(live)
    state = state_of(live, [flaky, *fine, refused])
    for message_id in fine:
        assert state[message_id]["row"]["status"] == "SENT"
        assert state[message_id]["row"]["provider_message_id"] == f"scripted-{message_id}"
        assert state[message_id]["row"]["lease_until"] is None
        assert [s for s, _ in state[message_id]["events"]] == ["QUEUED", "ACCEPTED", "SENT"]
        assert state[message_id]["hooks"].count("message.sent") == 1
    # The transient failure waits for its retry, still ACCEPTED; the refusal FAILED, refunded.
    assert state[flaky]["row"]["status"] == "ACCEPTED"
    assert state[flaky]["row"]["lease_until"] > live.app.state.clock.now()
    assert state[flaky]["events"][-1] == ("ACCEPTED", "INTERNAL_003")
    assert "message.sent" not in state[flaky]["hooks"]
    assert state[refused]["row"]["status"] == "FAILED"
    assert state[refused]["row"]["reason_code"] == "DELIVERY_001"
    assert state[refused]["row"]["refunded"]
    assert balance(live, org.id) == before - 4 * SMS_PRICE

    # Nothing is due before the retry time; after it, the retry is sent, once.
    dispatch(live)
    assert state_of(live, [flaky])[flaky]["row"]["status"] == "ACCEPTED"
    live.app.state.clock.advance(timedelta(seconds=5))
    try:
        dispatch(live)
    finally:
        live.app.state.clock.offset = timedelta(0)
    retried = state_of(live, [flaky, *fine])
    assert retried[flaky]["row"]["status"] == "SENT"
    assert retried[flaky]["row"]["attempts"] == 2
    assert [s for s, _ in retried[flaky]["events"]] == ["QUEUED", "ACCEPTED", "ACCEPTED", "SENT"]
    assert retried[flaky]["hooks"].count("message.sent") == 1
    for message_id in fine:  # not submitted again
        assert provider.calls[uuid.UUID(message_id)] == 1
        assert retried[message_id]["hooks"].count("message.sent") == 1
    assert balance(live, org.id) == before - 4 * SMS_PRICE


def test_retries_run_out_and_the_message_is_refunded(
    live: LiveServer, provider: ScriptedProvider
) -> None:
    org = make_org(live)
    before = balance(live, org.id)
    down, fine = send(live, org.live_key, ["+14155559002", "+14155558201"])
    dispatch(live)
    live.app.state.clock.advance(timedelta(seconds=5))
    try:
        dispatch(live)
    finally:
        live.app.state.clock.offset = timedelta(0)
    state = state_of(live, [down, fine])
    assert state[down]["row"]["status"] == "FAILED"  # dispatch_max_attempts=2
    assert state[down]["row"]["refunded"]
    assert [e for e in state[down]["events"]] == [
        ("QUEUED", None),
        ("ACCEPTED", None),
        ("ACCEPTED", "INTERNAL_003"),
        ("FAILED", "INTERNAL_003"),
    ]
    assert state[down]["hooks"].count("message.failed") == 1
    assert state[fine]["row"]["status"] == "SENT"
    assert balance(live, org.id) == before - SMS_PRICE


def test_early_delivered_receipt_in_a_batch(live: LiveServer, provider: ScriptedProvider) -> None:
    """The receipt arrives before SENT is recorded: the message still gets exactly one SENT
    event and one `message.sent`, then DELIVERED — never a late SENT over DELIVERED."""
    org = make_org(live)
    early, fine = send(live, org.live_key, ["+14155559004", "+14155558301"])
    dispatch(live)
    state = state_of(live, [early, fine])
    assert state[early]["row"]["status"] == "DELIVERED"
    assert [s for s, _ in state[early]["events"]] == ["QUEUED", "ACCEPTED", "SENT", "DELIVERED"]
    assert state[early]["hooks"].count("message.sent") == 1
    assert state[early]["hooks"].count("message.delivered") == 1
    assert state[fine]["row"]["status"] == "SENT"

    async def kept() -> int:
        async with live.app.state.db.connection() as conn:
            count: int = await conn.fetchval(
                "SELECT count(*) FROM early_receipts WHERE provider_message_id = $1",
                f"scripted-{early}",
            )
            return count

    assert live.run(kept()) == 0


def test_cancelled_while_submitting_is_not_recorded_as_sent(
    live: LiveServer, provider: ScriptedProvider
) -> None:
    org = make_org(live)
    before = balance(live, org.id)
    cancelled, fine = send(live, org.live_key, ["+14155559005", "+14155558401"])
    dispatch(live)
    state = state_of(live, [cancelled, fine])
    assert state[cancelled]["row"]["status"] == "CANCELLED"
    assert "SENT" not in [s for s, _ in state[cancelled]["events"]]
    assert "message.sent" not in state[cancelled]["hooks"]
    assert state[fine]["row"]["status"] == "SENT"
    assert balance(live, org.id) == before - SMS_PRICE  # the cancelled one refunded, once


def test_transition_many_only_moves_forward(live: LiveServer) -> None:
    """A late SENT never overwrites DELIVERED; a batch moves only those that may move."""
    org = make_org(live)
    moved_id, ahead_id = send(live, org.test_key, ["+14155558501", "+14155558502"])

    async def go() -> tuple[list[Any], Any, Any]:
        now = live.app.state.clock.now()
        async with live.app.state.db.transaction() as conn:
            ids = [uuid.UUID(moved_id), uuid.UUID(ahead_id)]
            await conn.execute(
                "UPDATE messages SET status = 'DELIVERED' WHERE id = $1", uuid.UUID(ahead_id)
            )
            rows = await messages.lock_many(conn, ids)
            moved = await lifecycle.transition_many(conn, rows, "SENT", description="late", now=now)
            # A stale row (read before another transaction moved it) is not moved either.
            stale = [r for r in rows if r.id == uuid.UUID(moved_id)]
            again = await lifecycle.transition_many(
                conn, stale, "ACCEPTED", description="stale", now=now
            )
            raced = await lifecycle.transition_many(
                conn, stale, "SENT", description="stale", now=now
            )
            return moved, again, raced

    moved, again, raced = live.run(go())
    assert [r.id for r in moved] == [uuid.UUID(moved_id)]
    assert again == [] and raced == []
    state = state_of(live, [moved_id, ahead_id])
    assert state[moved_id]["row"]["status"] == "SENT"
    assert [s for s, _ in state[moved_id]["events"]] == ["QUEUED", "SENT"]
    assert state[ahead_id]["row"]["status"] == "DELIVERED"
    assert [s for s, _ in state[ahead_id]["events"]] == ["QUEUED"]
    assert state[moved_id]["hooks"].count("message.sent") == 1
    assert "message.sent" not in state[ahead_id]["hooks"]


class StopsTheWorker:
    """A live SMS provider whose first submission comes as the worker is told to stop (SIGTERM
    arriving mid-batch): it sets the context's `stopping` flag, then accepts the message."""

    name = "twilio"
    channels = frozenset({"sms"})

    def __init__(self, worker: WorkerContext) -> None:
        self.worker = worker
        self.calls: list[uuid.UUID] = []

    async def submit(self, message: OutboundMessage) -> Submission:
        self.calls.append(message.id)
        self.worker.stopping.set()
        return Submission(f"stopping-{message.id}")


def test_a_stopping_dispatcher_hands_back_what_it_did_not_submit(
    live: LiveServer, provider: ScriptedProvider
) -> None:
    org = make_org(live)
    worker = context(live)
    stopping = StopsTheWorker(worker)
    live.app.state.providers.register(stopping)
    ids = send(live, org.live_key, [f"+1415555{8500 + n}" for n in range(6)])
    live.run(dispatcher.dispatch_due(worker))

    submitted = {str(message_id) for message_id in stopping.calls}
    assert 1 <= len(submitted) < len(ids)
    now = live.app.state.clock.now()
    state = state_of(live, ids)
    for message_id in ids:
        row = state[message_id]["row"]
        if message_id in submitted:
            assert row["status"] == "SENT"
        else:  # due again at once, and the claim's attempt given back
            assert row["status"] == "ACCEPTED"
            assert row["lease_until"] <= now
            assert row["attempts"] == 0

    # Another worker dispatches them now, not after the lease; each is submitted once.
    live.app.state.providers.register(provider)
    dispatch(live)
    state = state_of(live, ids)
    assert {state[m]["row"]["status"] for m in ids} == {"SENT"}
    again = {str(message_id) for message_id in provider.calls}
    assert again == set(ids) - submitted
    for message_id in ids:
        assert state[message_id]["row"]["attempts"] == 1
        assert state[message_id]["hooks"].count("message.sent") == 1
