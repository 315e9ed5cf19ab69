"""Crash test: the API and a separate worker process on PostgreSQL; 500 accepted messages; the
worker is killed with SIGKILL mid-flight and another takes over. Every message reaches a final
state and each is charged exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import IO

import httpx

from tests.cli.support import SENTD, cli_env
from tests.conftest import build_app
from tests.contract import assert_ok
from tests.factories import make_org, set_limits
from tests.live_server import LiveServer

MESSAGES = 500
PRICE = 7_900


def start_worker(db_url: str, out: IO[bytes]) -> subprocess.Popen[bytes]:
    env = cli_env(
        SENTD_DATABASE_URL=db_url, SENTD_SIMULATOR_LATENCY_MS="300", SENTD_DISPATCH_LEASE_S="2"
    )
    return subprocess.Popen([SENTD, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT)


def counts(api: LiveServer) -> dict[str, int]:
    async def go() -> dict[str, int]:
        async with api.app.state.db.connection() as conn:
            rows = await conn.fetch("SELECT status, count(*) AS n FROM messages GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    return api.run(go())


def test_killed_dispatcher_loses_no_message(db_url: str, tmp_path: Path) -> None:
    from sentd.db.migrate import upgrade

    upgrade(db_url)
    api = LiveServer(build_app(db_url)).start()
    out = (tmp_path / "worker.log").open("ab")
    workers: list[subprocess.Popen[bytes]] = []
    try:
        org = make_org(api, test_micros=MESSAGES * PRICE)
        set_limits(api, org, messages_per_minute=10_000, messages_per_day=10_000)
        with httpx.Client(base_url=api.base_url, timeout=60) as client:
            for batch in range(MESSAGES // 100):
                to = [f"+1415{batch + 2}{n + 10:06d}" for n in range(100)]  # no magic numbers
                body = {"to": to, "text": "crash test", "channel": ["sms"]}
                response = client.post(
                    "/v3/messages", json=body, headers={"x-api-key": org.test_key}
                )
                assert len(assert_ok(response, 202)["recipients"]) == 100
        assert counts(api) == {"QUEUED": MESSAGES}

        workers.append(start_worker(db_url, out))
        deadline = time.monotonic() + 60
        while counts(api).get("SENT", 0) + counts(api).get("DELIVERED", 0) < 50:
            assert time.monotonic() < deadline, counts(api)
            time.sleep(0.05)
        os.kill(workers[0].pid, signal.SIGKILL)
        workers[0].wait(timeout=10)
        assert counts(api).get("DELIVERED", 0) < MESSAGES, "finished before the kill"

        workers.append(start_worker(db_url, out))
        deadline = time.monotonic() + 120
        while counts(api) != {"DELIVERED": MESSAGES}:
            assert time.monotonic() < deadline, counts(api)
            time.sleep(0.2)

        async def money() -> tuple[int, int]:
            async with api.app.state.db.connection() as conn:
                balance = await conn.fetchval(
                    "SELECT amount_micros FROM balances WHERE customer_id = $1 AND NOT livemode",
                    org.id,
                )
                debits = await conn.fetchval(
                    "SELECT -sum(amount_micros) FROM ledger_entries WHERE customer_id = $1 "
                    "AND NOT livemode AND reason = 'messages'",
                    org.id,
                )
            return balance, debits

        assert api.run(money()) == (0, MESSAGES * PRICE)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
        out.close()
        api.stop()
