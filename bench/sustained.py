"""Sustained end to end: the highest accept rate sentd holds while it also dispatches every
message (simulator) and delivers its webhooks, without the backlog growing; and the API's RSS
over a long accept load (the soak).

    .venv/bin/python -m bench.sustained             # 60 s windows, a 5-minute soak
    BENCH_SUSTAINED_WINDOW_S=15 BENCH_SOAK_S=60 .venv/bin/python -m bench.sustained   # quick

What runs, all on this machine: a fresh database on the external PostgreSQL (BENCH_DATABASE_URL's
server) and Redis, one `sentd serve --no-worker` (with `--workers BENCH_SUSTAINED_API_WORKERS`,
default 1) and one `sentd worker` process (pinned together to BENCH_SUSTAINED_CPUS, default
`0,1`, when the machine has more cores), a webhook receiver that
answers 200 (`bench/receiver.py`) subscribed to each message's `sent` and `delivered` events
(BENCH_SUSTAINED_EVENTS), and a load generator that starts requests on a fixed schedule, with
latency counted from each request's scheduled time. Each request is `POST /v3/messages`, one
recipient, a template, SMS — the same body as wrk's `single` (`bench/post.lua`). The generator:

* wrk2 (wrk with a constant rate, `-R`; its latency is corrected for coordinated omission) when
  BENCH_WRK2 names its executable. It is not packaged: build it from its public repository
  (`git clone https://github.com/giltene/wrk2 && make -C wrk2` needs a C compiler and OpenSSL's
  headers; then `BENCH_WRK2=$PWD/wrk2/wrk`). It spends ~0.06 ms of CPU a request — about what
  wrk spends on the peer.
* otherwise `generate` below (asyncio and aiohttp in a process of its own, open loop: a request
  starts at its time whatever the answers), which spends ~0.35 ms of CPU a request on the same
  2 cores as sentd: ~15 % of the machine at the rates that hold. Its figures are lower for that.

The report names the generator used; compare rates measured with the same one.

The search: a window of BENCH_SUSTAINED_WINDOW_S seconds at a fixed rate, starting at
BENCH_SUSTAINED_START msg/s and doubling while the rate holds, then bisecting between the last
rate that held and the first that did not (BENCH_SUSTAINED_STEPS times, or until they are within
10 %). A rate holds when the API answered 2xx to ≥ 97 % of the offered requests by the end of the
window (+1 s), none failed, the accept's p99 (from the scheduled time) stayed under
BENCH_SUSTAINED_P99_MS (default 1000: past that, requests queue in front of the API), and the
backlog did not grow: the backlog (sampled every second from the database) is the work that is
due and not done — messages QUEUED or being dispatched, simulated receipts past their time, and
webhook deliveries due — and it grows when its Theil–Sen slope over the window after its first
quarter exceeds BENCH_SUSTAINED_TOLERANCE (default 2 %) of the offered rate (at least 2 items/s)
and it ends above one second of the offered rate (a smaller backlog is work in flight, not a
queue). A window that does not hold is run once more before its rate counts as too high
(BENCH_SUSTAINED_CONFIRM=0: not). Between windows the backlog drains and the tables are
ANALYZEd.

The soak: BENCH_SOAK_S seconds (default 300) of accept load — open loop at the highest rate that
held (BENCH_SOAK_LOAD=sustained, the default; the backlog is reported for it too), or wrk at full
speed (BENCH_SOAK_LOAD=max) — with the API process's RSS (its children included) sampled every
second: maximum, and the slope (MB/min) of a line fitted over the soak after its first minute.

The peer: when Jasmin is set up (`../shared/bench/jasmin/`, see bench/run.py), its accept rate
(wrk -c32, bench.sh) is measured before the search and after the soak, and the highest held rate
is reported as a ratio to their median (issue 16's figure). With wrk2, the peer's own end to end
is searched last, the same way (BENCH_SUSTAINED_PEER=0: not): its `/send` at a fixed rate, its
backlog being what was offered and not yet handed to its SMSC simulator; sentd's held rate is
reported as a ratio to that too. `python -m bench.sustained peer` runs that search alone. A
Jasmin already listening on :1401 is used as it is (neither started nor stopped).

Prints progress, then one JSON document; writes bench/results/<date>-sustained.json.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import psutil
import psycopg

from bench.run import (
    BIN,
    CONNECTIONS,
    JASMIN_RUN_DIR,
    JASMIN_SEND_URL,
    REDIS_URL,
    ROOT,
    cli,
    free_port,
    fresh_database,
    jasmin_run,
    jasmin_running,
    peer_ready,
    prepare_sentd,
    process,
    receiver_command,
    say,
    sentd_env,
    wrk,
)

WINDOW_S = int(os.environ.get("BENCH_SUSTAINED_WINDOW_S", "60"))
START_RATE = float(os.environ.get("BENCH_SUSTAINED_START", "100"))
MAX_RATE = float(os.environ.get("BENCH_SUSTAINED_MAX", "5000"))
STEPS = int(os.environ.get("BENCH_SUSTAINED_STEPS", "3"))
CONFIRM = os.environ.get("BENCH_SUSTAINED_CONFIRM", "1") == "1"
TOLERANCE = float(os.environ.get("BENCH_SUSTAINED_TOLERANCE", "0.02"))
EVENTS = os.environ.get("BENCH_SUSTAINED_EVENTS", "sent,delivered")
CPUS = os.environ.get("BENCH_SUSTAINED_CPUS", "0,1")
GEN_CONNECTIONS = int(os.environ.get("BENCH_SUSTAINED_CONNECTIONS", "64"))
WRK2 = os.environ.get("BENCH_WRK2")  # the wrk2 executable; unset: the Python generator
GENERATOR = "wrk2" if WRK2 else "python"
DRAIN_MAX_S = int(os.environ.get("BENCH_SUSTAINED_DRAIN_MAX_S", "180"))
SOAK_S = int(os.environ.get("BENCH_SOAK_S", "300"))
SOAK_LOAD = os.environ.get("BENCH_SOAK_LOAD", "sustained")
# API processes (`sentd serve --workers N`); the worker loops run in one `sentd worker` beside.
API_WORKERS = int(os.environ.get("BENCH_SUSTAINED_API_WORKERS", "1"))
MAX_OUTSTANDING = 4000  # requests in flight the generator allows before it counts one dropped
ACCEPTED_SHARE = 0.97  # of the offered requests, answered 2xx in time, for a rate to hold
GRACE_S = 1.0  # "in time": answered by the end of the window and this much after
P99_LIMIT_MS = float(os.environ.get("BENCH_SUSTAINED_P99_MS", "1000"))
# The peer's own end to end (its accept and its hand-over to the SMSC) is searched too, with
# wrk2 (BENCH_WRK2) as the generator; 0: not.
PEER_SUSTAINED = os.environ.get("BENCH_SUSTAINED_PEER", "1") == "1"

BACKLOG_SQL = """
    SELECT
        (SELECT count(*) FROM messages WHERE status IN ('QUEUED', 'ACCEPTED')),
        (SELECT count(*) FROM messages WHERE simulated_next_at <= now()),
        (SELECT count(*) FROM webhook_deliveries
            WHERE state IN ('pending', 'retrying') AND next_attempt_at <= now())
"""


# -- the load generator (a process of its own) ---------------------------------------------------


def _body(template_id: str) -> bytes:
    # Suffixes from 0100: none is a simulator magic number (0001-0005).
    number = f"+1415{random.randint(200, 999):03d}{random.randint(100, 9999):04d}"
    return (
        '{"to":["' + number + '"],"channel":["sms"],"template":{"id":"' + template_id + '",'
        '"parameters":{"name":"Ada","order_id":"A-100"}}}'
    ).encode()


async def generate(
    url: str, key: str, template_id: str, rate: float, seconds: float
) -> dict[str, Any]:
    """Start `rate` requests a second for `seconds`, each at its scheduled time whether or not
    the earlier ones were answered (open loop); latency counts from the scheduled time."""
    import aiohttp

    loop = asyncio.get_running_loop()
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    answered_at: list[float] = []  # when each 2xx came back
    errors = dropped = 0
    late = 0.0
    pending: set[asyncio.Task[None]] = set()
    headers = {"x-api-key": key, "content-type": "application/json"}
    connector = aiohttp.TCPConnector(limit=GEN_CONNECTIONS)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=headers) as http:

        async def one(due: float) -> None:
            nonlocal errors
            try:
                async with http.post(url, data=_body(template_id)) as answer:
                    await answer.read()
                    statuses[answer.status] += 1
                    if 200 <= answer.status < 300:
                        answered_at.append(loop.time())
            except (aiohttp.ClientError, TimeoutError):
                errors += 1
                return
            latencies.append(loop.time() - due)

        total = int(rate * seconds)
        start = loop.time() + 0.05
        sent = 0
        while sent < total:
            now = loop.time()
            due = start + sent / rate
            if due > now:
                await asyncio.sleep(due - now)
                continue
            late = max(late, now - due)
            if len(pending) >= MAX_OUTSTANDING:
                dropped += 1
            else:
                task = asyncio.create_task(one(due))
                pending.add(task)
                task.add_done_callback(pending.discard)
            sent += 1
        if pending:
            await asyncio.wait(set(pending), timeout=40)
    ok = sum(n for status, n in statuses.items() if 200 <= status < 300)
    in_time = sum(1 for at in answered_at if at <= start + seconds + GRACE_S)
    latencies.sort()

    def pct(p: float) -> float:
        return round(1000 * latencies[int(p * (len(latencies) - 1))], 1) if latencies else 0.0

    return {
        "offered_per_s": rate,
        "seconds": seconds,
        "requests": total,
        "ok": ok,
        "ok_in_time": in_time,
        "ok_per_s": in_time / seconds,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": errors,
        "dropped": dropped,
        "generator_late_ms": round(1000 * late, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
    }


def run_generator(url: str, bench: dict[str, str], rate: float, seconds: float) -> dict[str, Any]:
    if WRK2:
        return run_wrk2(WRK2, url, bench, rate, seconds)
    args = [sys.executable, "-m", "bench.sustained", "generate", url, str(rate), str(seconds)]
    env = os.environ | {"PYTHONPATH": str(ROOT), "API_KEY": bench["API_KEY"]}
    env |= {"TEMPLATE_ID": bench["TEMPLATE_ID"]}
    out = subprocess.run(
        args, env=env, capture_output=True, text=True, timeout=seconds + 120, cwd=ROOT
    )
    if out.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run_wrk2(
    binary: str, url: str, bench: dict[str, str], rate: float, seconds: float, kind: str = "single"
) -> dict[str, Any]:
    """wrk2 at `rate` for `seconds` (bench/post.lua's `kind` requests), its figures named as
    `generate` names them. wrk2 counts the answers that came back within its run: they are the
    ones in time."""
    run = wrk(url, kind, bench, seconds, binary=binary, connections=GEN_CONNECTIONS, rate=rate)
    return {
        "offered_per_s": rate,
        "seconds": seconds,
        "requests": int(rate * seconds),
        "ok": run["ok"],
        "ok_in_time": run["ok"],
        "ok_per_s": run["ok"] / seconds,
        "statuses": {"2xx": run["ok"], "other": run["status_errors"]},
        "errors": run["status_errors"] + run["socket_errors"],
        "dropped": 0,
        "generator_late_ms": None,
        "p50_ms": run["p50_ms"],
        "p99_ms": run["p99_ms"],
    }


# -- what is measured while the load runs ---------------------------------------------------------


class Sampler:
    """Readings taken on a thread of its own every `EVERY_S` seconds until `stop()`, each kept
    in `samples` with the seconds since the sampler started (`now()`). A subclass says how to
    read (`_read`: a sample, or None to skip this one) and, if reading needs one, what to hold
    open meanwhile (`_held`)."""

    EVERY_S = 1.0

    def __init__(self) -> None:
        self.samples: list[Any] = []
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _held(self) -> contextlib.AbstractContextManager[Any]:
        return contextlib.nullcontext()

    def _read(self, held: Any) -> Any:
        raise NotImplementedError

    def _run(self) -> None:
        with self._held() as held:
            while not self._stop.is_set():
                sample = self._read(held)
                if sample is not None:
                    self.samples.append(sample)
                self._stop.wait(self.EVERY_S)

    def now(self) -> float:
        return time.monotonic() - self.started

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class Backlog(Sampler):
    """The due work, sampled every second: (seconds since start, queued, receipts, deliveries)."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__()

    def _held(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, autocommit=True)

    def _read(self, conn: psycopg.Connection[Any]) -> tuple[float, int, int, int] | None:
        row = conn.execute(BACKLOG_SQL).fetchone()
        return (self.now(), int(row[0]), int(row[1]), int(row[2])) if row else None

    def latest(self) -> int:
        return sum(self.samples[-1][1:]) if self.samples else 0

    def between(self, start: float, end: float) -> list[tuple[float, int, int, int]]:
        return [s for s in self.samples if start <= s[0] <= end]


def theil_sen(points: list[tuple[float, float]]) -> float:
    """The median of the slopes between every pair of points: a trend that a saw-tooth (the
    worker takes the queue in batches) does not tilt."""
    slopes = [
        (y2 - y1) / (x2 - x1)
        for i, (x1, y1) in enumerate(points)
        for x2, y2 in points[i + 1 :]
        if x2 > x1
    ]
    return float(statistics.median(slopes)) if slopes else 0.0


def backlog_trend(samples: list[tuple[float, int, int, int]]) -> dict[str, Any]:
    def series(index: int) -> list[tuple[float, float]]:
        return [(s[0], float(s[index] if index else sum(s[1:]))) for s in samples]

    return {
        "slope_per_s": round(theil_sen(series(0)), 2),
        "queued_slope_per_s": round(theil_sen(series(1)), 2),
        "receipts_slope_per_s": round(theil_sen(series(2)), 2),
        "deliveries_slope_per_s": round(theil_sen(series(3)), 2),
        "max": max((sum(s[1:]) for s in samples), default=0),
        "end_level": statistics.median(sum(s[1:]) for s in samples[-3:]) if samples else 0,
        "end": {"queued": samples[-1][1], "receipts": samples[-1][2], "deliveries": samples[-1][3]}
        if samples
        else {},
    }


class RssSeries:
    """A process's resident memory (its children included), sampled every second."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def mb(self) -> float:
        try:
            proc = psutil.Process(self.pid)
            procs = [proc, *proc.children(recursive=True)]
            return sum(p.memory_info().rss for p in procs) / 2**20
        except psutil.Error:
            return 0.0

    def _run(self) -> None:
        started = time.monotonic()
        while not self._stop.is_set():
            self.samples.append((time.monotonic() - started, self.mb()))
            self._stop.wait(1.0)

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join(timeout=5)
        after_warmup = [(t, mb) for t, mb in self.samples if t >= min(60.0, SOAK_S / 5)]
        return {
            "max_mb": round(max((mb for _, mb in self.samples), default=0.0), 1),
            "first_mb": round(self.samples[0][1], 1) if self.samples else None,
            "last_mb": round(self.samples[-1][1], 1) if self.samples else None,
            "slope_mb_per_min": round(60 * _least_squares(after_warmup), 3),
            "samples": len(self.samples),
        }


def _least_squares(points: list[tuple[float, float]]) -> float:
    if len(points) < 2:
        return 0.0
    mx = statistics.fmean(x for x, _ in points)
    my = statistics.fmean(y for _, y in points)
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


# -- the search -----------------------------------------------------------------------------------


def window(url: str, bench: dict[str, str], backlog: Backlog, rate: float) -> dict[str, Any]:
    """One window at `rate`: the load, the backlog's trend over its last three quarters, the
    verdict, then the drain."""
    start = backlog.now()
    load = run_generator(url, bench, rate, WINDOW_S)
    end = backlog.now()
    trend = backlog_trend(backlog.between(start + (end - start) / 4, end))
    reasons = verdict(load, trend, rate)
    drained_s = drain(backlog)
    say(
        f"{rate:,.0f} msg/s offered: {load['ok_per_s']:,.0f} accepted/s, p50 {load['p50_ms']} ms, "
        f"p99 {load['p99_ms']} ms, backlog slope {trend['slope_per_s']}/s "
        f"(queued {trend['queued_slope_per_s']}, receipts {trend['receipts_slope_per_s']}, "
        f"deliveries {trend['deliveries_slope_per_s']}), max {trend['max']}; "
        f"drained in {drained_s:.0f} s → {ruling(reasons)}"
    )
    return load | {"backlog": trend, "held": not reasons, "why_not": reasons, "drain_s": drained_s}


def ruling(reasons: list[str]) -> str:
    return "HELD" if not reasons else "not held: " + "; ".join(reasons)


def verdict(load: dict[str, Any], trend: dict[str, Any], rate: float) -> list[str]:
    """Why a window at `rate` did not hold (nothing when it held), for sentd and the peer alike."""
    allowed = max(TOLERANCE * rate, 2.0)
    reasons = []
    if load["ok_in_time"] < ACCEPTED_SHARE * load["requests"]:
        reasons.append(f"accepted {load['ok_in_time']} of {load['requests']} in time")
    if load["p99_ms"] > P99_LIMIT_MS:
        reasons.append(f"accept p99 {load['p99_ms']:.0f} ms > {P99_LIMIT_MS:.0f} ms")
    if load["errors"] or load["dropped"]:
        reasons.append(f"{load['errors']} errors, {load['dropped']} dropped")
    if trend["slope_per_s"] > allowed and trend["end_level"] > rate:
        reasons.append(
            f"backlog grew {trend['slope_per_s']:.1f}/s (allowed {allowed:.1f}/s) "
            f"to {trend['end_level']}"
        )
    return reasons


def drain(backlog: Backlog) -> float:
    """Wait until no work is due (DRAIN_MAX_S at most), then ANALYZE: the next window's plans
    see the tables as they now are (the test server may run without autovacuum)."""
    started = time.monotonic()
    time.sleep(1.5)
    while backlog.latest() > 0 and time.monotonic() - started < DRAIN_MAX_S:
        time.sleep(1.0)
    drained = time.monotonic() - started
    with psycopg.connect(backlog.url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    return drained


def search(window: Callable[[float], dict[str, Any]]) -> tuple[float, list[dict[str, Any]]]:
    """The highest rate at which `window(rate)` held, and every window run to find it."""
    windows: list[dict[str, Any]] = []

    def holds(rate: float) -> bool:
        """A window at `rate`; one that does not hold is run again (CONFIRM) before the rate
        counts as too high: a shared machine has stalls of its own."""
        for attempt in range(2 if CONFIRM else 1):
            if attempt:
                say(f"{rate:,.0f} msg/s: once more, to confirm")
            result = window(rate)
            windows.append(result)
            if result["held"]:
                return True
        return False

    held, failed = 0.0, None
    rate = START_RATE
    while rate <= MAX_RATE:
        if not holds(rate):
            failed = rate
            break
        held = rate
        rate *= 2
    for _ in range(STEPS):
        if failed is None or (held and (failed - held) / held <= 0.10):
            break
        rate = round((held + failed) / 2)
        if holds(rate):
            held = rate
        else:
            failed = rate
    return held, windows


# -- processes ------------------------------------------------------------------------------------


@dataclass
class EndToEnd:
    """sentd running end to end: its API and worker processes, the webhook receiver, the demo
    organization (`bench`: API_KEY, TEMPLATE_ID, ORG) and its database's URL."""

    api: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]
    receiver: subprocess.Popen[bytes]
    bench: dict[str, str]
    database: str
    url: str  # POST /v3/messages


@contextmanager
def end_to_end(database_name: str) -> Iterator[EndToEnd]:
    """A fresh database, `sentd serve --no-worker` (API_WORKERS processes) and `sentd worker`
    (pinned to CPUS), and the receiver subscribed to each message's EVENTS."""
    database = fresh_database(database_name)
    env = sentd_env(
        SENTD_DATABASE_URL=database, SENTD_REDIS_URL=REDIS_URL, SENTD_WEBHOOK_ALLOW_PRIVATE="true"
    )
    cli(env, "migrate")
    api_port, hook_port = free_port(), free_port()
    base = f"http://127.0.0.1:{api_port}"
    api_args = pinned(
        [
            *(str(BIN / "sentd"), "serve", "--port", str(api_port), "--no-worker"),
            *(("--workers", str(API_WORKERS)) if API_WORKERS > 1 else ()),
        ]
    )
    receiver_env = os.environ | {"PYTHONPATH": str(ROOT)}
    with (
        process(receiver_command(hook_port), receiver_env, None) as receiver,
        process(api_args, env, f"{base}/health/ready") as api,
    ):
        bench = prepare_sentd(env, base)
        hook: dict[str, Any] = {
            "display_name": "bench",
            "endpoint_url": f"http://127.0.0.1:{hook_port}/",
            "event_types": ["messages"],
        }
        if EVENTS != "all":
            hook["event_filters"] = {"message": EVENTS.split(",")}
        answer = httpx.post(
            f"{base}/v3/webhooks", json=hook, headers={"x-api-key": bench["API_KEY"]}
        )
        answer.raise_for_status()
        with process(pinned([str(BIN / "sentd"), "worker"]), env, None) as worker:
            yield EndToEnd(api, worker, receiver, bench, database, f"{base}/v3/messages")


def pinned(args: list[str]) -> list[str]:
    """Pin to CPUS when the machine has more cores than those (on 2 cores every process shares
    them anyway)."""
    if (os.cpu_count() or 0) > len(CPUS.split(",")) and shutil.which("taskset"):
        return ["taskset", "-c", CPUS, *args]
    return args


@contextmanager
def peer() -> Iterator[bool]:
    """Jasmin for the ratio, when set up."""
    why_not = peer_ready()
    if why_not:
        say(f"peer skipped: {why_not}")
        yield False
    else:
        with jasmin_running():
            yield True


def peer_accept(label: str) -> dict[str, Any]:
    result = jasmin_run()
    say(
        f"peer ({label}): Jasmin accepted {result['ok_per_s']:,.0f} req/s, "
        f"p99 {result['p99_ms']} ms"
    )
    return result


class SmscCount(Sampler):
    """How many messages the peer has handed to its SMSC simulator (which rewrites the count in
    its stats file every 0.5 s), sampled every half second: (seconds since start, count)."""

    EVERY_S = 0.5

    def __init__(self) -> None:
        self.path = JASMIN_RUN_DIR / "smsc.stats"
        super().__init__()
        while not self.samples and self._thread.is_alive() and self.now() < 10:
            time.sleep(0.1)

    def _read(self, _: None) -> tuple[float, int] | None:
        try:
            return self.now(), int(self.path.read_text().split()[0])
        except (OSError, ValueError, IndexError):  # caught while it was being rewritten
            return None

    def latest(self) -> int:
        return int(self.samples[-1][1]) if self.samples else 0

    def still(self) -> float:
        """Wait until the count has not moved for 3 s (DRAIN_MAX_S at most): the peer's queue
        is empty. Returns the seconds waited."""
        started = time.monotonic()
        last, since = self.latest(), time.monotonic()
        while time.monotonic() - since < 3.0 and time.monotonic() - started < DRAIN_MAX_S:
            time.sleep(0.5)
            if self.latest() != last:
                last, since = self.latest(), time.monotonic()
        return time.monotonic() - started


def peer_window(smsc: SmscCount, rate: float) -> dict[str, Any]:
    """One window of the peer's own end to end at `rate`: its `/send` under wrk2, judged as
    sentd's windows are. Its backlog is what was offered and not yet handed to the SMSC (the
    generator offers `rate` a second from the window's start)."""
    assert WRK2
    start, handed = smsc.now(), smsc.latest()
    load = run_wrk2(WRK2, JASMIN_SEND_URL, {}, rate, WINDOW_S, kind="get")
    end, handed_in_time = smsc.now(), smsc.latest() - handed
    backlog = [
        (at, rate * (at - start) - (count - handed))
        for at, count in smsc.samples
        if start + (end - start) / 4 <= at <= end
    ]
    trend = {
        "slope_per_s": round(theil_sen(backlog), 2),
        "max": round(max((level for _, level in backlog), default=0)),
        "end_level": round(statistics.median(level for _, level in backlog[-3:])) if backlog else 0,
    }
    reasons = verdict(load, trend, rate)
    drained_s = smsc.still()
    say(
        f"peer, {rate:,.0f} msg/s offered: {load['ok_per_s']:,.0f} accepted/s, "
        f"p99 {load['p99_ms']} ms, handed to the SMSC {handed_in_time / (end - start):,.0f}/s, "
        f"backlog slope {trend['slope_per_s']}/s; drained in "
        f"{drained_s:.0f} s → {ruling(reasons)}"
    )
    return load | {"backlog": trend, "held": not reasons, "why_not": reasons, "drain_s": drained_s}


def peer_sustained() -> tuple[float, list[dict[str, Any]]]:
    """The peer's own sustained end to end, searched as sentd's is."""
    smsc = SmscCount()
    try:
        say("peer's own end to end: the same search, its /send under wrk2")
        return search(lambda rate: peer_window(smsc, rate))
    finally:
        smsc.stop()


def soak(
    url: str, bench: dict[str, str], backlog: Backlog, api_pid: int, rate: float
) -> dict[str, Any]:
    shape = "wrk at full speed" if SOAK_LOAD == "max" else f"open loop, {rate:,.0f} msg/s"
    say(f"soak: {SOAK_S} s of accept load ({shape})")
    rss = RssSeries(api_pid)
    start = backlog.now()
    if SOAK_LOAD == "max":
        load = wrk(url, "single", bench, SOAK_S)
    else:
        load = run_generator(url, bench, rate, SOAK_S)
    end = backlog.now()
    memory = rss.stop()
    trend = backlog_trend(backlog.between(start + min(60.0, SOAK_S / 5), end))
    say(
        f"soak: {load['ok_per_s']:,.0f} accepted/s; API RSS max {memory['max_mb']} MB, "
        f"{memory['first_mb']} → {memory['last_mb']} MB, "
        f"slope {memory['slope_mb_per_min']} MB/min; "
        f"backlog slope {trend['slope_per_s']}/s"
    )
    return {"load": load, "rss": memory, "backlog": trend, "drain_s": drain(backlog)}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "generate":
        url, rate, seconds = sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
        key, template_id = os.environ["API_KEY"], os.environ["TEMPLATE_ID"]
        import uvloop

        print(json.dumps(uvloop.run(generate(url, key, template_id, rate, seconds))))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "peer":
        with peer() as has_peer:
            if not (has_peer and WRK2):
                sys.exit("the peer's end to end needs the peer set up and BENCH_WRK2")
            held, windows = peer_sustained()
        print(json.dumps({"peer_sustained_per_s": held, "peer_windows": windows}, indent=2))
        return
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": {"cores": os.cpu_count(), "load_avg_at_start": os.getloadavg()},
        "settings": {
            "api_workers": API_WORKERS,
            "window_s": WINDOW_S,
            "start_rate": START_RATE,
            "steps": STEPS,
            "confirm": CONFIRM,
            "tolerance": TOLERANCE,
            "p99_limit_ms": P99_LIMIT_MS,
            "events": EVENTS,
            "generator": GENERATOR,
            "generator_connections": GEN_CONNECTIONS,
            "soak_s": SOAK_S,
            "soak_load": SOAK_LOAD,
            "peer_connections": CONNECTIONS,
        },
    }
    peer_windows: list[dict[str, Any]]
    with ExitStack() as stack:
        sentd = stack.enter_context(end_to_end("sentd_bench_sustained"))
        api, bench, url = sentd.api, sentd.bench, sentd.url
        has_peer = stack.enter_context(peer())
        peers = [peer_accept("before")] if has_peer else []
        backlog = Backlog(sentd.database)
        say(f"warm-up: 5 s at {START_RATE:,.0f} msg/s")
        run_generator(url, bench, START_RATE, 5)
        drain(backlog)
        held, windows = search(lambda rate: window(url, bench, backlog, rate))
        say(f"highest rate that held: {held:,.0f} msg/s")
        soaked = soak(url, bench, backlog, api.pid, held or START_RATE) if SOAK_S else None
        if has_peer:
            peers.append(peer_accept("after"))
        backlog.stop()
        peer_held, peer_windows = 0.0, []
        if has_peer and WRK2 and PEER_SUSTAINED:
            peer_held, peer_windows = peer_sustained()
            say(f"the peer's highest rate that held: {peer_held:,.0f} msg/s")
    peer_rate = statistics.median(p["ok_per_s"] for p in peers) if peers else None
    report |= {
        "sustained_messages_per_s": held,
        "peer_accept_per_s": peer_rate,
        "ratio_to_peer": round(held / peer_rate, 3) if peer_rate else None,
        "peer_sustained_per_s": peer_held or None,
        "ratio_to_peer_sustained": round(held / peer_held, 3) if peer_held else None,
        "windows": windows,
        "soak": soaked,
        "peer": peers,
        "peer_windows": peer_windows,
    }
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    out = results / f"{report['date']}-sustained.json"
    out.write_text(json.dumps(report, indent=2))
    say(f"wrote {out}")
    summary = {k: v for k, v in report.items() if k not in ("windows", "peer", "peer_windows")}
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
