"""Processes under signals: the children of `sentd serve --workers 2` die with a parent killed
by SIGKILL (so the port can be served again at once), and a worker stopped by SIGTERM hands back
the deliveries it claimed but did not start, so another worker sends them within seconds — not
after the claim's lease."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.cli.support import SENTD, cli_env, free_port, wait_healthy
from tests.conftest import OPERATOR, build_app
from tests.contract import assert_ok
from tests.factories import make_org
from tests.live_server import LiveServer
from tests.webhook_receiver import Behaviour, WebhookReceiver

EVENTS = 20


def stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


def server_children(parent: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """The uvicorn server processes of a `--workers N` parent (not multiprocessing helpers)."""
    return [
        child
        for child in psutil.Process(parent.pid).children()
        if any("spawn_main" in part for part in child.cmdline())
    ]


def running(process: psutil.Process) -> bool:
    """Alive and not a zombie (an exited orphan may wait a while for its new parent to reap
    it)."""
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def api_processes(base: str) -> list[str]:
    processes: list[str] = assert_ok(httpx.get(f"{base}/status", headers=OPERATOR, timeout=10))[
        "components"
    ]["api_processes"]["alive"]
    return processes


def pid_of(process_name: str) -> int:
    return int(process_name.split(":")[1])  # host:pid:tag


def test_children_die_with_a_killed_parent(env: dict[str, str], demo: Any, tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    command = [SENTD, "serve", "--workers", "2", "--port", str(port)]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with log.open("ab") as out:
            processes.append(
                subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
            )
        first = processes[0]
        wait_healthy(base, first)
        deadline = time.monotonic() + 60
        while len(children := server_children(first)) < 2 or len(api_processes(base)) < 2:
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        old_pids = {child.pid for child in children}

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        deadline = time.monotonic() + 40
        while alive := [child for child in children if running(child)]:
            assert time.monotonic() < deadline, (
                f"children outlived their parent: {alive}\n{log.read_text()[-3000:]}"
            )
            time.sleep(0.2)

        with log.open("ab") as out:
            processes.append(
                subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
            )
        wait_healthy(base, processes[1])
        me = httpx.get(f"{base}/v3/me", headers={"x-api-key": demo["live_key"]}, timeout=10)
        assert assert_ok(me)["mode"] == "live"
        # The children stopped cleanly and deleted their heartbeats: nobody counts them.
        assert not {pid_of(name) for name in api_processes(base)} & old_pids
    finally:
        for process in processes:
            stop(process)


def start_worker(db_url: str, out: Any, **settings: str) -> subprocess.Popen[bytes]:
    env = cli_env(
        SENTD_DATABASE_URL=db_url,
        SENTD_WEBHOOK_ALLOW_PRIVATE="true",
        SENTD_LOG_LEVEL="INFO",
        **settings,
    )
    return subprocess.Popen([SENTD, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT)


def test_worker_stopped_by_sigterm_hands_back_its_claims(db_url: str, tmp_path: Path) -> None:
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
            WebhookReceiver(behaviour=Behaviour(delay_s=0.5)) as receiver,
            httpx.Client(base_url=api.base_url) as client,
        ):
            body = {
                "display_name": "Roll",
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

            # One at a time, with the default 300 s lease: it claims every delivery at once.
            workers.append(start_worker(db_url, out, SENTD_WEBHOOK_MAX_IN_FLIGHT="1"))
            receiver.wait_for(2, timeout=30)
            workers[0].send_signal(signal.SIGTERM)
            assert workers[0].wait(timeout=30) == 0
            delivered_before = len({d.event_id for d in receiver.deliveries})
            assert delivered_before < EVENTS, "the worker finished before it was stopped"

            started = time.monotonic()
            workers.append(start_worker(db_url, out))
            while len({d.event_id for d in receiver.deliveries}) < EVENTS:
                assert time.monotonic() - started < 30, (
                    f"{len({d.event_id for d in receiver.deliveries})} of {EVENTS} events "
                    f"arrived; worker log:\n{log.read_text()[-3000:]}"
                )
                time.sleep(0.1)
            assert all(d.verified for d in receiver.deliveries)
    finally:
        for worker in workers:
            stop(worker)
        out.close()
        api.stop()
