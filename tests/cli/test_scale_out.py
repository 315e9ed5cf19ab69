"""Scale-out: the topology of compose.yaml, run as real processes on one PostgreSQL and one Redis.

Two API processes (`sentd serve --no-worker`) and two worker processes (`sentd worker`) share a
fresh database and a Redis. Messages are sent through both API processes; one worker is killed
with SIGKILL while they are in flight. Every message is still delivered, each request is charged
once, every `message.delivered` event reaches the customer's webhook (signed), and the rate limit
is one budget across both API processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from tests.cli.support import DEMO_MICROS, SENTD, cli_env, cli_json, free_port, run_cli
from tests.conftest import OPERATOR, STATUS_TOKEN
from tests.contract import assert_error, assert_ok
from tests.webhook_receiver import Behaviour, WebhookReceiver

pytestmark = [pytest.mark.slow, pytest.mark.redis]

REQUESTS = 10
RECIPIENTS = 20
MESSAGES = REQUESTS * RECIPIENTS
KILL_AFTER = REQUESTS // 2  # requests sent before a worker is killed
CONCURRENCY = 8  # `sentd worker --concurrency`
RATE_LIMIT = 5  # requests a minute of the second organization


class Processes:
    """sentd subprocesses, each logging to its own file under `logs`."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.started: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("ab") as out:
            process = subprocess.Popen(
                [SENTD, *args], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        self.started[name] = process
        return process

    def tail(self, chars: int = 1500) -> str:
        parts = []
        for name in self.started:
            text = (self.logs / f"{name}.log").read_text(errors="replace")
            parts.append(f"--- {name} ---\n{text[-chars:]}")
        return "\n".join(parts)

    def stop(self, timeout: float = 15.0) -> dict[str, int]:
        """SIGTERM every live process, then SIGKILL what has not exited; their exit codes."""
        running = {name: p for name, p in self.started.items() if p.poll() is None}
        for process in running.values():
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in running.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return {name: p.returncode for name, p in running.items()}


def wait_until(
    what: str, check: Callable[[], bool], timeout: float, detail: Callable[[], str] = str
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} within {timeout} s\n{detail()}"
        time.sleep(0.1)


def query(db_url: str, sql: str, *params: Any) -> list[Any]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(sql, params).fetchall()


def second_organization(db_url: str) -> tuple[str, str]:
    """Another organization and a live key for it, through sentd's services (the CLI creates only
    the demo organization)."""
    from sentd.db.database import Database
    from sentd.services import accounts, keys
    from tests.conftest import make_settings

    async def go() -> tuple[str, str]:
        db = await Database.connect(db_url, make_settings(db_url, db_pool_max_size=1))
        try:
            async with db.transaction() as conn:
                suffix = uuid.uuid4().hex[:8]
                org, owner = await accounts.create_organization(
                    conn,
                    name=f"Throttled {suffix}",
                    owner_email=f"{suffix}@example.com",
                    currency="USD",
                )
                key = await keys.issue(conn, customer_id=org.id, user_id=owner["id"], livemode=True)
            return str(org.id), key.plaintext
        finally:
            await db.close()

    return asyncio.run(go())


def connections_to(pid: int, port: int) -> int:
    """How many established TCP connections (IPv4) process `pid` has to loopback `port`: a worker
    inside a webhook delivery batch holds one to the receiver. Linux only (/proc)."""
    sockets = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            if link.startswith("socket:["):
                sockets.add(link[len("socket:[") : -1])
    table = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(
        1
        for fields in (line.split() for line in table)
        if int(fields[2].rsplit(":", 1)[1], 16) == port
        and fields[3] == "01"  # ESTABLISHED
        and fields[9] in sockets
    )


def busy_worker(
    workers: list[subprocess.Popen[bytes]], port: int, timeout: float = 5.0
) -> subprocess.Popen[bytes]:
    """The worker that is delivering to the receiver now (so a kill leaves leased deliveries
    behind); the first one where /proc cannot tell."""
    if not Path("/proc/net/tcp").exists():
        return workers[0]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for worker in workers:
            if connections_to(worker.pid, port):
                return worker
        time.sleep(0.01)
    return workers[0]


def alive_loops(client: httpx.Client, base_url: str, loop: str) -> set[str]:
    status = assert_ok(client.get(f"{base_url}/status", headers=OPERATOR))
    return {
        row["process"]
        for row in status["components"]["worker_loops"]["alive"]
        if row["name"] == loop
    }


def test_two_api_processes_and_two_workers_share_the_work(
    db_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = cli_env(
        SENTD_DATABASE_URL=db_url,
        SENTD_DATA_DIR=str(tmp_path / "var"),
        SENTD_REDIS_URL=redis_url,
        SENTD_STATUS_TOKEN=STATUS_TOKEN,
        SENTD_LIMITS_NAMESPACE=f"sentd-scale-{uuid.uuid4().hex[:8]}",
        SENTD_WEBHOOK_ALLOW_PRIVATE="true",
        SENTD_SIMULATOR_LATENCY_MS="200",
        SENTD_DISPATCH_LEASE_S="2",
        SENTD_WEBHOOK_LEASE_S="2",
        SENTD_WEBHOOK_RETRY_BASE_S="0.2",
    )
    demo = cli_json(env, "init", "--json")  # migrates the fresh database
    org_id, key = demo["organization_id"], demo["test_key"]
    raised = run_cli(
        env,
        "accounts",
        "set-plan",
        org_id,
        "enterprise",
        "--messages-per-minute",
        "100000",
        "--messages-per-day",
        "100000",
    )
    assert raised.returncode == 0, raised.stderr
    throttled_org, throttled_key = second_organization(db_url)
    limited = run_cli(
        env, "accounts", "set-plan", throttled_org, "--requests-per-minute", str(RATE_LIMIT)
    )
    assert limited.returncode == 0, limited.stderr

    processes = Processes(env, tmp_path)
    ports = [free_port(), free_port()]
    apis = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for i, port in enumerate(ports):
            processes.start(f"api{i}", "serve", "--no-worker", "--port", str(port))
        workers = [
            processes.start(f"worker{i}", "worker", "--concurrency", str(CONCURRENCY))
            for i in range(2)
        ]
        with (
            httpx.Client(timeout=30) as client,
            WebhookReceiver(behaviour=Behaviour(delay_s=0.02)) as receiver,
        ):

            def up(base_url: str) -> bool:
                try:
                    return client.get(f"{base_url}/health/ready", timeout=2).status_code == 200
                except httpx.TransportError:
                    return False

            wait_until("both API processes ready", lambda: all(map(up, apis)), 60, processes.tail)
            wait_until(
                "two worker processes running the dispatcher and webhook delivery loops",
                lambda: all(
                    len(alive_loops(client, apis[0], loop)) == 2
                    for loop in ("dispatcher", "webhook_delivery")
                ),
                30,
                processes.tail,
            )

            # One rate-limit budget for both API processes (counted in Redis): the second
            # organization may make 5 requests a minute, wherever they land.
            me = [
                client.get(f"{apis[i % 2]}/v3/me", headers={"x-api-key": throttled_key})
                for i in range(RATE_LIMIT + 1)
            ]
            for i, response in enumerate(me[:RATE_LIMIT]):
                assert_ok(response)
                assert response.headers["x-ratelimit-remaining"] == str(RATE_LIMIT - 1 - i)
            assert_error(me[RATE_LIMIT], "BUSINESS_002")
            assert int(me[RATE_LIMIT].headers["retry-after"]) >= 1

            headers = {"x-api-key": key}
            hook = {
                "display_name": "Scale-out",
                "endpoint_url": receiver.url,
                "event_types": ["messages"],
                "event_filters": {"message": ["delivered"]},
            }
            created = assert_ok(
                client.post(f"{apis[0]}/v3/webhooks", json=hook, headers=headers), 201
            )
            receiver.secret = created["signing_secret"]

            debits: dict[str, set[str]] = {}  # request id → its message ids
            receiver_port = urlsplit(receiver.url).port
            assert receiver_port is not None
            at_kill = 0
            for i in range(REQUESTS):
                to = [f"+1415555{i:02d}{n + 10:02d}" for n in range(RECIPIENTS)]  # no magic numbers
                body = {"to": to, "text": f"scale-out {i}", "channel": ["sms"]}
                response = client.post(f"{apis[i % 2]}/v3/messages", json=body, headers=headers)
                recipients = assert_ok(response, 202)["recipients"]
                debits[response.headers["x-request-id"]] = {r["message_id"] for r in recipients}
                if i + 1 == KILL_AFTER:
                    # Half the messages are in, events are flowing: kill the worker that is in
                    # the middle of a delivery batch; the rest is sent while it is gone.
                    receiver.wait_for(5, timeout=30)
                    victim = busy_worker(workers, receiver_port)
                    os.kill(victim.pid, signal.SIGKILL)
                    victim.wait(timeout=10)
                    at_kill = len({d.event_id for d in receiver.deliveries})
            assert at_kill < KILL_AFTER * RECIPIENTS, "every event arrived before the kill"

            message_ids = set().union(*debits.values())
            assert len(message_ids) == MESSAGES

            def statuses() -> dict[str, int]:
                rows = query(
                    db_url,
                    "SELECT status, count(*) FROM messages WHERE customer_id = %s GROUP BY status",
                    org_id,
                )
                return {status: n for status, n in rows}

            def delivered_ids() -> set[str]:
                return {
                    d.body["payload"]["message_id"]
                    for d in list(receiver.deliveries)
                    if d.verified and d.body.get("event") == "message.delivered"
                }

            wait_until(
                "every message DELIVERED",
                lambda: statuses() == {"DELIVERED": MESSAGES},
                40,
                lambda: f"{statuses()}\n{processes.tail()}",
            )
            wait_until(
                "every message.delivered event at the webhook",
                lambda: delivered_ids() == message_ids,
                40,
                lambda: f"{len(delivered_ids())} of {MESSAGES}\n{processes.tail()}",
            )
            deliveries = list(receiver.deliveries)
            assert all(d.verified for d in deliveries)
            assert {d.body["event"] for d in deliveries} == {"message.delivered"}
            assert len({d.event_id for d in deliveries}) == MESSAGES  # duplicates are allowed

            # Charged exactly once: one debit per request, for that request's messages.
            prices = dict(
                query(
                    db_url,
                    "SELECT id::text, price_micros FROM messages WHERE customer_id = %s",
                    org_id,
                )
            )
            ledger = query(
                db_url,
                "SELECT reason, reference, amount_micros FROM ledger_entries "
                "WHERE customer_id = %s AND NOT livemode AND reason NOT IN ('open', 'demo_credit')",
                org_id,
            )
            assert sorted(reason for reason, _, _ in ledger) == ["messages"] * REQUESTS
            assert {ref: -amount for _, ref, amount in ledger} == {
                request_id: sum(prices[m] for m in ids) for request_id, ids in debits.items()
            }
            [(balance,)] = query(
                db_url,
                "SELECT amount_micros FROM balances WHERE customer_id = %s AND NOT livemode",
                org_id,
            )
            assert all(price > 0 for price in prices.values())
            assert balance == DEMO_MICROS - sum(prices.values())

        # The survivors shut down cleanly on SIGTERM.
        survivors = {name for name, p in processes.started.items() if p is not victim}
        codes = processes.stop()
        assert codes == dict.fromkeys(survivors, 0), processes.tail()
    finally:
        processes.stop()
