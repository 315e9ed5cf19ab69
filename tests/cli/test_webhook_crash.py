"""A delivery worker killed mid-batch loses nothing: another worker re-claims its deliveries
when their lease ends, and every event arrives at least once."""

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
from tests.factories import make_org
from tests.live_server import LiveServer
from tests.webhook_receiver import Behaviour, WebhookReceiver

EVENTS = 20


def start_worker(db_url: str, out: IO[bytes]) -> subprocess.Popen[bytes]:
    env = cli_env(
        SENTD_DATABASE_URL=db_url,
        SENTD_WEBHOOK_ALLOW_PRIVATE="true",
        SENTD_WEBHOOK_LEASE_S="2",
        SENTD_WEBHOOK_RETRY_BASE_S="0.2",
        # Few at a time, so that the kill finds most deliveries unsent (with the default 16 in
        # flight, the killed worker's last requests could bring every event before the second
        # worker has even installed its SIGTERM handler).
        SENTD_WEBHOOK_MAX_IN_FLIGHT="2",
    )
    return subprocess.Popen([SENTD, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT)


def test_killed_worker_loses_no_event(db_url: str, tmp_path: Path) -> None:
    from sentd.db.migrate import upgrade

    upgrade(db_url)
    api = LiveServer(build_app(db_url)).start()
    log = tmp_path / "worker.log"
    out = log.open("ab")
    workers: list[subprocess.Popen[bytes]] = []
    try:
        org = make_org(api)
        headers = {"x-api-key": org.live_key}
        with (
            WebhookReceiver(behaviour=Behaviour(delay_s=0.25)) as receiver,
            httpx.Client(base_url=api.base_url) as client,
        ):
            body = {
                "display_name": "Crash",
                "endpoint_url": receiver.url,
                "event_types": ["contact"],
            }
            receiver.secret = assert_ok(
                client.post("/v3/webhooks", json=body, headers=headers), 201
            )["signing_secret"]
            contact = assert_ok(
                client.post("/v3/contacts", json={"phone_number": "+14155550100"}, headers=headers),
                201,
            )["id"]
            for i in range(EVENTS):
                response = client.patch(
                    f"/v3/contacts/{contact}", json={"opt_out": i % 2 == 0}, headers=headers
                )
                assert_ok(response)

            workers.append(start_worker(db_url, out))
            receiver.wait_for(3, timeout=30)
            os.kill(workers[0].pid, signal.SIGKILL)  # mid-batch: it held every delivery
            workers[0].wait(timeout=10)
            delivered_before = len(receiver.deliveries)
            assert delivered_before < EVENTS, "the worker finished before it could be killed"

            workers.append(start_worker(db_url, out))
            deadline = time.monotonic() + 60
            while len({d.event_id for d in receiver.deliveries}) < EVENTS:
                assert time.monotonic() < deadline, (
                    f"{len({d.event_id for d in receiver.deliveries})} of {EVENTS} events arrived; "
                    f"worker log:\n{log.read_text()[-3000:]}"
                )
                time.sleep(0.1)
            assert all(d.verified for d in receiver.deliveries)
            events = [d.body["event"] for d in receiver.deliveries]
            assert set(events) == {"contact.opt_out", "contact.opt_in"}
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    assert worker.wait(timeout=15) == 0
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
        out.close()
        api.stop()
