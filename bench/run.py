"""sentd's benchmarks: starts what it measures, drives it with wrk, writes the results.

    make bench                      # or: .venv/bin/python bench/run.py
    BENCH_DURATION=15 BENCH_ROUNDS=2 BENCH_SOAK_S=300 make bench
    BENCH_ONLY=accept,pipeline BENCH_DURATION=8 BENCH_ROUNDS=1 .venv/bin/python bench/run.py

Figures (each measured BENCH_ROUNDS times for BENCH_DURATION seconds after a warm-up; medians):
floor, accept, batch accept, embedded accept (wrk, 32 connections, loopback), dispatch (20,000
messages through one worker process) and webhooks (their 20,000 `message.sent` events delivered
by one worker process), memory (peak RSS; with BENCH_SOAK_S, RSS
after one minute versus at the end of the soak), and the peer: Jasmin's `GET /send` and sentd's
accept measured in interleaved rounds (peer, sentd, peer, sentd, ...) with each round's ratio,
when the peer is set up (`../shared/bench/jasmin/setup.sh`; a Jasmin already listening on :1401
is used as it is). Writes bench/results/<date>.json and BENCHMARKS.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://root@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
DURATION = int(os.environ.get("BENCH_DURATION", "15"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
SOAK_S = int(os.environ.get("BENCH_SOAK_S", "0"))
DISPATCH_MESSAGES = int(os.environ.get("BENCH_DISPATCH_MESSAGES", "20000"))
PROFILE = os.environ.get("BENCH_PROFILE", "1") == "1"
# A quick look at some figures while working on them: e.g. BENCH_ONLY=accept,pipeline. Parts are
# floor, accept (external PostgreSQL, with batch), embedded and pipeline (dispatch + webhooks);
# the figures are printed, and neither the results file nor BENCHMARKS.md is written.
ONLY = {part for part in os.environ.get("BENCH_ONLY", "").split(",") if part}
# The peer (Jasmin) scripts and how many interleaved rounds to run against it.
JASMIN_DIR = Path(os.environ.get("BENCH_JASMIN_DIR", ROOT.parent / "shared" / "bench" / "jasmin"))
JASMIN_RUN_DIR = Path(
    os.environ.get("JASMIN_RUN_DIR", Path(tempfile.gettempdir()) / "sentd-peer-jasmin")
)
PEER_ROUNDS = int(os.environ.get("BENCH_PEER_ROUNDS", "3"))
# API processes for the peer rounds' second sentd figure: one per core unless told.
API_WORKERS = int(os.environ.get("BENCH_API_WORKERS", str(os.cpu_count() or 1)))


def say(text: str) -> None:
    print(f"[bench {datetime.now().strftime('%H:%M:%S')}] {text}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fresh_database(name: str) -> str:
    name = os.environ.get("BENCH_DB_PREFIX", "") + name
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        autovacuum = conn.execute("SHOW autovacuum").fetchone()
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    if autovacuum and autovacuum[0] == "off":
        keep_statistics(url)
    return url


def receiver_command(port: int) -> list[str]:
    """The local webhook receiver (bench/receiver.py: answers 200 to every POST) on `port`."""
    return [
        str(BIN / "uvicorn"),
        "bench.receiver:app",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


_analyzed: list[str] = []
# Tables whose rows change state and leave dead index entries behind (a delivery or message
# leaves the partial "due" index when it is done): autovacuum would clean them up.
QUEUE_TABLES = ("webhook_deliveries", "messages")


def keep_statistics(url: str) -> None:
    """Stand in for autovacuum when the server runs without it (as a test server does):
    without statistics, PostgreSQL plans the recipients' contact lookup as a scan of all the
    customer's contacts, and accept slows down as a run adds contacts; without VACUUM, the
    deliveries and messages that are done stay in the partial "due" indexes as dead entries,
    and every claim walks them (recording webhook attempts took 2.4x as long in the sustained
    run) — properties of the server's configuration, not of sentd. Every 10 s, like an eager
    autovacuum, and only those tables: ANALYZE of the whole database every 10 s took CPU enough
    to halve the pipeline's webhook figure."""
    _analyzed.append(url)
    if len(_analyzed) > 1:
        return
    say("the server runs without autovacuum: the bench vacuums and analyzes every 10 s instead")

    def loop() -> None:
        while True:
            time.sleep(10)
            for each in list(_analyzed):
                try:
                    with psycopg.connect(each, autocommit=True) as conn:
                        conn.execute("ANALYZE contacts")
                        for table in QUEUE_TABLES:
                            conn.execute(f"VACUUM (ANALYZE) {table}")
                except psycopg.Error:
                    pass  # dropped, or not migrated yet

    threading.Thread(target=loop, daemon=True).start()


def sentd_env(**values: str) -> dict[str, str]:
    """sentd as a deployment would run it: default settings (the pool of 10 connections among
    them: on 2 cores, 32 connections cost PostgreSQL more CPU than they save in waiting), quiet
    logs, and requests that wait for a connection as long as wrk waits for an answer (the batch
    load is past capacity, and shedding it with 503s would measure the shedding)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTD_")}
    quiet = {"SENTD_LOG_LEVEL": "WARNING", "SENTD_LOG_JSON": "false"}
    return env | quiet | {"SENTD_DB_ACQUIRE_TIMEOUT_S": "10"} | values


def cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(BIN / "sentd"), *args], env=env, capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        raise RuntimeError(f"sentd {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


@contextmanager
def process(
    args: list[str], env: dict[str, str], health_url: str | None
) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if health_url:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{args[0]} exited with {proc.returncode}")
                try:
                    if httpx.get(health_url, timeout=1).status_code < 500:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{args} did not start")
                time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class RssSampler:
    """Peak resident memory of processes (with their children), sampled in the background."""

    def __init__(self) -> None:
        self.peaks: dict[str, float] = {}
        self._watched: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def watch(self, name: str, pid: int) -> None:
        self._watched[name] = pid

    def unwatch(self, name: str) -> None:
        self._watched.pop(name, None)

    @staticmethod
    def rss_mb(pid: int) -> float:
        try:
            proc = psutil.Process(pid)
            return proc.memory_info().rss / 2**20
        except psutil.Error:
            return 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pid in list(self._watched.items()):
                self.peaks[name] = max(self.peaks.get(name, 0.0), self.rss_mb(pid))
            time.sleep(0.2)

    def stop(self) -> None:
        self._stop.set()


def wrk(
    url: str,
    kind: str,
    env: dict[str, str],
    duration: float,
    *,
    binary: str = "wrk",
    connections: int = CONNECTIONS,
    rate: float | None = None,
) -> dict[str, Any]:
    """wrk's run of bench/post.lua's `kind` requests (wrk2's at a constant `rate` when given
    with its `binary`): RESULT's figures and `ok_per_s`."""
    args = [
        binary,
        "-t2",
        f"-c{connections}",
        f"-d{duration:g}s",
        *((f"-R{rate:g}",) if rate is not None else ()),
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(ROOT / "bench" / "post.lua"),
        url,
    ]
    out = subprocess.run(
        args,
        env=os.environ | env | {"BODY_KIND": kind},
        capture_output=True,
        text=True,
        timeout=duration + 60,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    result["ok_per_s"] = result["ok"] / (result["duration_us"] / 1e6)
    return result


def measure(
    url: str,
    kind: str,
    env: dict[str, str],
    label: str,
    on_run: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    say(f"{label}: warm-up {WARMUP}s")
    wrk(url, kind, env, WARMUP)
    runs = []
    for n in range(ROUNDS):
        if on_run:
            on_run(n)
        run = wrk(url, kind, env, DURATION)
        say(
            f"{label} #{n + 1}: {run['ok_per_s']:.0f} ok/s, p50 {run['p50_ms']} ms, "
            f"p99 {run['p99_ms']} ms, {run['status_errors']} non-2xx, "
            f"{run['socket_errors']} socket errors"
        )
        runs.append(run)
    return runs


def median(runs: list[dict[str, Any]], key: str, factor: float = 1.0) -> float:
    return float(statistics.median(r[key] * factor for r in runs))


def prepare_sentd(env: dict[str, str], base_url: str) -> dict[str, str]:
    """A demo organization with limits that do not throttle, a large test balance and a
    template; returns the test key and template id."""
    demo = json.loads(cli(env, "init", "--json"))
    org = demo["organization_id"]
    cli(
        env,
        "accounts",
        "set-plan",
        org,
        "enterprise",
        "--requests-per-minute",
        "100000000",
        "--requests-burst",
        "100000000",
        "--messages-per-minute",
        "100000000",
        "--messages-per-day",
        "100000000",
        "--contacts",
        "100000000",
    )
    cli(env, "billing", "credit", org, "100000000", "--mode", "test")
    key = demo["test_key"]
    body = {
        "name": "bench_order",
        "definition": {
            "body": {
                "multiChannel": {
                    "template": "Hi {{0:name}}, your order {{1:order_id}} has shipped.",
                    "type": "text",
                    "variables": [
                        {"id": 0, "name": "name", "type": "variable", "props": {"sample": "Ada"}},
                        {"id": 1, "name": "order_id", "type": "variable", "props": {"sample": "1"}},
                    ],
                }
            }
        },
    }
    response = httpx.post(f"{base_url}/v3/templates", json=body, headers={"x-api-key": key})
    response.raise_for_status()
    return {"API_KEY": key, "TEMPLATE_ID": response.json()["data"]["id"], "ORG": org}


def profile_accept(pid: int, url: str, env: dict[str, str], out: Path) -> list[str]:
    """py-spy over one accept run; returns the functions with the most self time."""
    raw = out.with_suffix(".txt")
    spy = subprocess.Popen(
        [
            str(BIN / "py-spy"),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(DURATION),
            "--format",
            "raw",
            "--output",
            str(raw),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1)
    wrk(url, "single", env, DURATION - 2)
    spy.wait(timeout=DURATION + 30)
    self_time: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frame = stack.split(";")[-1]
        self_time[frame] = self_time.get(frame, 0) + int(count)
        total += int(count)
    top = sorted(self_time.items(), key=lambda kv: -kv[1])[:15]
    return [f"{100 * n / total:5.1f}%  {frame}" for frame, n in top]


def accept_figures(
    env: dict[str, str], sampler: RssSampler, label: str, profile_to: Path | None = None
) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cli(env, "migrate")
    with process(
        [str(BIN / "sentd"), "serve", "--port", str(port), "--no-worker"],
        env,
        f"{base}/health/ready",
    ) as api:
        sampler.watch(f"{label} API", api.pid)
        bench_env = prepare_sentd(env, base)
        single = measure(f"{base}/v3/messages", "single", bench_env, f"{label} accept")
        batch = measure(f"{base}/v3/messages", "batch", bench_env, f"{label} batch accept")
        hot_path = (
            profile_accept(api.pid, f"{base}/v3/messages", bench_env, profile_to)
            if (profile_to and PROFILE)
            else []
        )
        soak: dict[str, float] = {}
        if SOAK_S:
            say(f"{label} soak: {SOAK_S}s of accept load")
            load = threading.Thread(
                target=wrk, args=(f"{base}/v3/messages", "single", bench_env, SOAK_S)
            )
            load.start()
            time.sleep(60)
            soak["rss_after_1min_mb"] = sampler.rss_mb(api.pid)
            load.join()
            soak["rss_at_end_mb"] = sampler.rss_mb(api.pid)
        sampler.unwatch(f"{label} API")
    return {"accept": single, "batch": batch, "hot_path": hot_path, "soak": soak}


def _one_worker(
    env: dict[str, str], sampler: RssSampler, url: str, done_sql: str, what: str
) -> None:
    """Run one `sentd worker` until `done_sql` (one boolean) is true; 15 minutes at most."""
    say(f"{what}: one worker process")
    with process([str(BIN / "sentd"), "worker"], env, None) as worker:
        sampler.watch("worker", worker.pid)
        started = time.monotonic()
        with psycopg.connect(url, autocommit=True) as conn:
            while not (conn.execute(done_sql).fetchone() or (False,))[0]:
                if time.monotonic() - started > 900:
                    raise RuntimeError(f"{what} stalled")
                time.sleep(0.5)
        sampler.unwatch("worker")


def _span_s(url: str, sql: str) -> float:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
    return float(row[0]) if row and row[0] else float("nan")


def dispatch_and_webhooks(sampler: RssSampler) -> dict[str, Any]:
    """Two figures, each with one `sentd worker` process alone on the work: dispatch (queued
    messages to SENT through the simulator, no webhook subscribed), then webhooks (a signed
    delivery of each of those messages' `message.sent` events to a receiver that answers 200)."""
    url = fresh_database("sentd_bench_dispatch")
    env = sentd_env(
        SENTD_DATABASE_URL=url,
        SENTD_REDIS_URL=REDIS_URL,
        SENTD_WEBHOOK_ALLOW_PRIVATE="true",
        SENTD_SIMULATOR_LATENCY_MS="600000",
    )
    cli(env, "migrate")
    api_port, hook_port = free_port(), free_port()
    base = f"http://127.0.0.1:{api_port}"
    with (
        process(
            receiver_command(hook_port),
            os.environ | {"PYTHONPATH": str(ROOT)},
            None,
        ),
        process(
            [str(BIN / "sentd"), "serve", "--port", str(api_port), "--no-worker"],
            env,
            f"{base}/health/ready",
        ),
    ):
        bench_env = prepare_sentd(env, base)
        headers = {"x-api-key": bench_env["API_KEY"]}
        say(f"dispatch: queueing {DISPATCH_MESSAGES} messages")
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            for start in range(0, DISPATCH_MESSAGES, 100):
                # Suffixes from 1000: none is a simulator magic number (0001-0005 fail, retry…).
                to = [
                    f"+1415{(start + n) // 9000 + 200:03d}{(start + n) % 9000 + 1000:04d}"
                    for n in range(100)
                ]
                body = {"to": to, "channel": ["sms"], "text": "dispatch bench"}
                client.post("/v3/messages", json=body).raise_for_status()
        _one_worker(
            env,
            sampler,
            url,
            "SELECT NOT EXISTS (SELECT FROM messages WHERE status IN ('QUEUED', 'ACCEPTED'))",
            "dispatch",
        )
        dispatch_s = _span_s(
            url,
            "SELECT extract(epoch FROM max(occurred_at) - min(occurred_at)) "
            "FROM message_events WHERE status IN ('ACCEPTED', 'SENT')",
        )
        say(f"dispatch: {DISPATCH_MESSAGES / dispatch_s:.0f} messages/s")

        hook = {
            "display_name": "bench",
            "endpoint_url": f"http://127.0.0.1:{hook_port}/",
            "event_types": ["messages"],
            "event_filters": {"message": ["sent"]},
        }
        httpx.post(f"{base}/v3/webhooks", json=hook, headers=headers).raise_for_status()
        with psycopg.connect(url) as conn:  # a delivery of every message.sent event
            conn.execute(
                "INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, state, "
                "next_attempt_at, created_at) SELECT gen_random_uuid(), w.id, e.id, e.event_type, "
                "'pending', now(), now() FROM webhooks w, events e "
                "WHERE e.event_type = 'message.sent' ORDER BY e.created_at"
            )
        _one_worker(
            env,
            sampler,
            url,
            "SELECT NOT EXISTS (SELECT FROM webhook_deliveries WHERE state <> 'delivered')",
            "webhooks",
        )
        hooks_s = _span_s(
            url,
            "SELECT extract(epoch FROM max(processing_completed_at) - "
            "min(processing_started_at)) FROM webhook_deliveries",
        )
        say(f"webhooks: {DISPATCH_MESSAGES / hooks_s:.0f} deliveries/s")
    return {
        "dispatch_per_s": DISPATCH_MESSAGES / dispatch_s,
        "webhooks_per_s": DISPATCH_MESSAGES / hooks_s,
        "dispatch_s": dispatch_s,
        "webhooks_s": hooks_s,
    }


def peer_ready() -> str | None:
    """Why the peer cannot be measured, or None when its scripts and its setup are there."""
    if not (JASMIN_DIR / "bench.sh").exists():
        return f"no peer scripts in {JASMIN_DIR} (BENCH_JASMIN_DIR)"
    if not (JASMIN_RUN_DIR / "venv" / "bin" / "python").exists():
        return f"the peer is not set up: run {JASMIN_DIR / 'setup.sh'} once"
    return None


def jasmin_run() -> dict[str, Any]:
    """One measured run of Jasmin's `GET /send` by its own script (warm-up, run, drain)."""
    out = subprocess.run(
        ["bash", str(JASMIN_DIR / "bench.sh"), str(CONNECTIONS), str(DURATION), str(WARMUP)],
        env=os.environ | {"WRK_THREADS": "2", "JASMIN_RUN_DIR": str(JASMIN_RUN_DIR)},
        capture_output=True,
        text=True,
        timeout=DURATION + WARMUP + 300,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the peer's bench.sh failed:\n{out.stdout}\n{out.stderr}")
    line = out.stdout.strip().splitlines()[-1]
    fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
    return {
        "ok_per_s": float(fields["accepted_rps"]),
        "p50_ms": float(fields["p50_ms"]),
        "p99_ms": float(fields["p99_ms"]),
        "line": line,
    }


JASMIN_PORT = 1401
JASMIN_SEND_URL = (  # what the peer's own bench.sh sends
    f"http://127.0.0.1:{JASMIN_PORT}/send?username=bench&password=benchpw"
    "&to=21698000000&from=BENCH&content=benchmark%20message"
)


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def jasmin_running() -> Iterator[None]:
    """Jasmin, started for the block and stopped after it; one already listening on its port
    is used as it is (neither started nor stopped)."""
    if listening(JASMIN_PORT):
        say(f"peer: using the Jasmin already listening on :{JASMIN_PORT}")
        yield
        return
    env = os.environ | {"JASMIN_QUIET": "1", "JASMIN_RUN_DIR": str(JASMIN_RUN_DIR)}
    subprocess.run(["bash", str(JASMIN_DIR / "start.sh")], env=env, check=True, timeout=300)
    try:
        yield
    finally:
        subprocess.run(["bash", str(JASMIN_DIR / "stop.sh")], env=env, timeout=300)


def peer_rounds() -> dict[str, Any]:
    """Interleaved rounds: Jasmin's accept, then sentd's single accept with one API process and
    with one per core (`sentd serve --workers N`, what docs/deployment.md recommends), then its
    batch accept, PEER_ROUNDS times, on the same machine with the same wrk shape. The figures of
    record are the medians of the rounds' ratios (sentd / Jasmin), not the absolute rates."""
    database = fresh_database("sentd_bench_peer")
    env = sentd_env(SENTD_DATABASE_URL=database, SENTD_REDIS_URL=REDIS_URL)
    ports = {workers: free_port() for workers in sorted({1, API_WORKERS})}
    cli(env, "migrate")
    rounds: list[dict[str, Any]] = []
    with contextlib.ExitStack() as servers:
        for workers, port in ports.items():
            servers.enter_context(
                process(
                    [
                        *(str(BIN / "sentd"), "serve", "--port", str(port), "--no-worker"),
                        *(("--workers", str(workers)) if workers > 1 else ()),
                    ],
                    env,
                    f"http://127.0.0.1:{port}/health/ready",
                )
            )
        servers.enter_context(jasmin_running())
        urls = {w: f"http://127.0.0.1:{port}/v3/messages" for w, port in ports.items()}
        bench_env = prepare_sentd(env, f"http://127.0.0.1:{ports[1]}")
        for url in urls.values():
            wrk(url, "single", bench_env, WARMUP)
        for n in range(PEER_ROUNDS):
            peer = jasmin_run()
            single = wrk(urls[1], "single", bench_env, DURATION)
            scaled = wrk(urls[API_WORKERS], "single", bench_env, DURATION)
            batch = wrk(urls[API_WORKERS], "batch", bench_env, DURATION)
            batch_msgs = batch["ok_per_s"] * 100
            round_ = {
                "jasmin": peer,
                "single": single,
                "single_scaled": scaled,
                "batch": batch,
                "single_ratio": single["ok_per_s"] / peer["ok_per_s"],
                "scaled_ratio": scaled["ok_per_s"] / peer["ok_per_s"],
                "batch_ratio": batch_msgs / peer["ok_per_s"],
            }
            say(
                f"peer round {n + 1}: Jasmin {peer['ok_per_s']:,.0f} req/s (p99 "
                f"{peer['p99_ms']} ms); sentd 1 process {single['ok_per_s']:,.0f} msg/s (p99 "
                f"{single['p99_ms']} ms) = {round_['single_ratio']:.2f}x; {API_WORKERS} "
                f"processes {scaled['ok_per_s']:,.0f} msg/s (p99 {scaled['p99_ms']} ms) = "
                f"{round_['scaled_ratio']:.2f}x; batch {batch_msgs:,.0f} msg/s = "
                f"{round_['batch_ratio']:.2f}x"
            )
            rounds.append(round_)
    return {
        "api_workers": API_WORKERS,
        "rounds": rounds,
        "single_ratio_median": median(rounds, "single_ratio"),
        "scaled_ratio_median": median(rounds, "scaled_ratio"),
        "batch_ratio_median": median(rounds, "batch_ratio"),
    }


def floor_figure(sampler: RssSampler) -> list[dict[str, Any]]:
    url = fresh_database("sentd_bench_floor")
    port = free_port()
    env = os.environ | {"FLOOR_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    with process(
        [
            str(BIN / "uvicorn"),
            "bench.floor:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
        ],
        env,
        None,
    ) as floor:
        time.sleep(1.5)
        sampler.watch("floor", floor.pid)
        runs = measure(f"http://127.0.0.1:{port}/", "floor", {}, "floor")
        sampler.unwatch("floor")
    return runs


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: `apt-get install wrk` (make bench does it)")
    sampler = RssSampler()
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(exist_ok=True)
    if ONLY:
        print(json.dumps(some_figures(sampler), indent=2))
        return
    floor = floor_figure(sampler)

    external_url = fresh_database("sentd_bench")
    external = accept_figures(
        sentd_env(SENTD_DATABASE_URL=external_url, SENTD_REDIS_URL=REDIS_URL),
        sampler,
        "external",
        profile_to=results_dir / f"{today}-accept-profile",
    )
    with tempfile.TemporaryDirectory(prefix="sentd-bench-") as data_dir:
        embedded = accept_figures(sentd_env(SENTD_DATA_DIR=data_dir), sampler, "embedded")
    pipeline = dispatch_and_webhooks(sampler)
    why_no_peer = peer_ready()
    if why_no_peer:
        say(f"peer skipped: {why_no_peer}")
    peer = None if why_no_peer else peer_rounds()
    sampler.stop()

    floor_rps = median(floor, "ok_per_s")
    figures = {
        "floor_requests_per_s": floor_rps,
        "accept_messages_per_s": median(external["accept"], "ok_per_s"),
        "accept_p50_ms": median(external["accept"], "p50_ms"),
        "accept_p95_ms": median(external["accept"], "p95_ms"),
        "accept_p99_ms": median(external["accept"], "p99_ms"),
        "accept_errors": sum(r["status_errors"] + r["socket_errors"] for r in external["accept"]),
        "batch_messages_per_s": median(external["batch"], "ok_per_s", 100),
        "embedded_accept_messages_per_s": median(embedded["accept"], "ok_per_s"),
        "dispatch_messages_per_s": pipeline["dispatch_per_s"],
        "webhook_deliveries_per_s": pipeline["webhooks_per_s"],
        "peak_rss_mb": sampler.peaks,
        "soak": external["soak"],
        "peer": peer and {k: v for k, v in peer.items() if k != "rounds"},
    }
    report = {
        "date": today,
        "machine": {
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        },
        "settings": {
            "duration_s": DURATION,
            "warmup_s": WARMUP,
            "rounds": ROUNDS,
            "connections": CONNECTIONS,
            "soak_s": SOAK_S,
            "dispatch_messages": DISPATCH_MESSAGES,
        },
        "figures": figures,
        "hot_path": external["hot_path"],
        "runs": {
            "floor": floor,
            "external": external,
            "embedded": embedded,
            "pipeline": pipeline,
            "peer": peer,
        },
    }
    out = results_dir / f"{today}.json"
    out.write_text(json.dumps(report, indent=2))
    write_markdown(report)
    say(f"wrote {out} and BENCHMARKS.md")


def some_figures(sampler: RssSampler) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    if "floor" in ONLY:
        figures["floor_requests_per_s"] = median(floor_figure(sampler), "ok_per_s")
    if "accept" in ONLY:
        env = sentd_env(SENTD_DATABASE_URL=fresh_database("sentd_bench"), SENTD_REDIS_URL=REDIS_URL)
        external = accept_figures(env, sampler, "external")
        figures["accept_messages_per_s"] = median(external["accept"], "ok_per_s")
        figures["accept_p99_ms"] = median(external["accept"], "p99_ms")
        figures["batch_messages_per_s"] = median(external["batch"], "ok_per_s", 100)
    if "embedded" in ONLY:
        with tempfile.TemporaryDirectory(prefix="sentd-bench-") as data_dir:
            embedded = accept_figures(sentd_env(SENTD_DATA_DIR=data_dir), sampler, "embedded")
        figures["embedded_accept_messages_per_s"] = median(embedded["accept"], "ok_per_s")
    if "pipeline" in ONLY:
        figures |= dispatch_and_webhooks(sampler)
    if "peer" in ONLY:
        why_no_peer = peer_ready()
        if why_no_peer:
            sys.exit(f"cannot measure the peer: {why_no_peer}")
        figures["peer"] = peer_rounds()
    sampler.stop()
    figures["peak_rss_mb"] = sampler.peaks
    return figures


def write_markdown(report: dict[str, Any]) -> None:
    f = report["figures"]
    floor = f["floor_requests_per_s"]

    def ratio(value: float) -> str:
        return f"{value / floor:.2f}" if floor else "—"

    rows = [
        ("floor: one INSERT per request, no framework", f"{floor:,.0f} req/s", "1.00"),
        (
            "accept: 1 recipient, template, SMS",
            f"{f['accept_messages_per_s']:,.0f} msg/s",
            ratio(f["accept_messages_per_s"]),
        ),
        (
            "accept latency p50 / p95 / p99",
            f"{f['accept_p50_ms']:.1f} / {f['accept_p95_ms']:.1f} / {f['accept_p99_ms']:.1f} ms",
            "",
        ),
        (
            "batch accept: 100 recipients per request",
            f"{f['batch_messages_per_s']:,.0f} msg/s",
            ratio(f["batch_messages_per_s"]),
        ),
        (
            "embedded PostgreSQL accept",
            f"{f['embedded_accept_messages_per_s']:,.0f} msg/s",
            ratio(f["embedded_accept_messages_per_s"]),
        ),
        ("dispatch: queued → SENT, one worker", f"{f['dispatch_messages_per_s']:,.0f} msg/s", ""),
        (
            "webhooks: signed deliveries to a 200 receiver, one worker",
            f"{f['webhook_deliveries_per_s']:,.0f} /s",
            "",
        ),
    ] + [(f"peak RSS: {name}", f"{mb:.0f} MB", "") for name, mb in f["peak_rss_mb"].items()]
    if f["soak"]:
        rows.append(
            (
                "RSS after 1 min / at the end of the soak",
                f"{f['soak']['rss_after_1min_mb']:.0f} / {f['soak']['rss_at_end_mb']:.0f} MB",
                "",
            )
        )
    m, s = report["machine"], report["settings"]
    peer_lines = peer_markdown(report["runs"]["peer"])
    lines = [
        "# Benchmarks",
        "",
        f"Measured {report['date']} on {m['cores']} cores, {m['memory_gb']} GB, {m['platform']}, "
        f"Python {m['python']}: wrk ({s['connections']} connections), PostgreSQL, Redis and sentd "
        f"all on the same machine; each figure is the median of {s['rounds']} runs of "
        f"{s['duration_s']} s after a {s['warmup_s']} s warm-up. The machine is shared and noisy: "
        "compare ratios to the floor rather than raw numbers. Reproduce with `make bench` "
        "(settings: `BENCH_DURATION`, `BENCH_ROUNDS`, `BENCH_SOAK_S`, …; see bench/run.py).",
        "",
        "| figure | value | ratio to floor |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
        f"Raw results: `bench/results/{report['date']}.json`.",
        "",
        *peer_lines,
        "## Where the accept path spends its time (py-spy, self time)",
        "",
        "```",
        *report["hot_path"],
        "```",
        "",
    ]
    existing = (ROOT / "BENCHMARKS.md").read_text() if (ROOT / "BENCHMARKS.md").exists() else ""
    notes = existing.split("## Notes", 1)[1] if "## Notes" in existing else "\n"
    (ROOT / "BENCHMARKS.md").write_text("\n".join(lines) + "## Notes" + notes)


def peer_markdown(peer: dict[str, Any] | None) -> list[str]:
    if not peer:
        return []
    workers = peer["api_workers"]

    def rate(run: dict[str, Any], factor: int = 1) -> str:
        return f"{run['ok_per_s'] * factor:,.0f}/s, p99 {run['p99_ms']:.0f} ms"

    rows = [
        f"| {n} | {rate(r['jasmin'])} | {rate(r['single'])} | {r['single_ratio']:.2f} "
        f"| {rate(r['single_scaled'])} | {r['scaled_ratio']:.2f} "
        f"| {rate(r['batch'], 100)} | {r['batch_ratio']:.2f} |"
        for n, r in enumerate(peer["rounds"], 1)
    ]
    return [
        "## Against the peer (Jasmin 0.11.1 `GET /send`, quiet), interleaved rounds",
        "",
        f"| round | Jasmin | sentd accept, 1 recipient, 1 API process | ratio | the same, "
        f"{workers} API processes | ratio | sentd, 100 recipients ({workers} processes), msg/s "
        "| ratio |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Median ratios: single {peer['single_ratio_median']:.2f}x with one API process, "
        f"{peer['scaled_ratio_median']:.2f}x with {workers}; batch "
        f"{peer['batch_ratio_median']:.2f}x Jasmin's single-request rate.",
        "",
    ]


if __name__ == "__main__":
    main()
