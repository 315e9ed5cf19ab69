"""Where the CPU of an accepted send goes: the API process, PostgreSQL, Redis and the load
generator, per accepted message, under wrk's load.

    .venv/bin/python -m bench.cpu                  # single sends, one API process
    .venv/bin/python -m bench.cpu batch 2          # 100-recipient sends, `--workers 2`
    .venv/bin/python -m bench.cpu end-to-end 600   # the sustained bench's stack at 600 msg/s
    .venv/bin/python -m bench.cpu peer             # the peer (Jasmin's /send), for comparison

What runs: a fresh database on the external PostgreSQL (BENCH_DATABASE_URL's server), Redis,
`sentd serve --no-worker` and wrk (-t2, BENCH_CONNECTIONS, BENCH_DURATION seconds after a 3 s
warm-up). Over the middle of the load (the first 2 s and the last 3 s left out), each group's
CPU time (user + system, children included) is read from /proc through psutil: PostgreSQL's
postmaster and the backends open once the warm-up is over (the pool's), Redis, the API process
and its workers, wrk. Also each API process's main thread (the event loop; with `--workers`, the
supervisor's is idle): the share of the time it ran and the share it waited for a core
(`/proc/<pid>/schedstat`). An event loop short of 100 % busy while nothing else is saturated
waits on PostgreSQL or Redis; one with a long run-queue wait is starved by the others on the
same cores.

`end-to-end RATE`: the sustained bench's stack instead (`bench.sustained.end_to_end`: the API, a
`sentd worker`, the webhook receiver; BENCH_SUSTAINED_* settings) under its generator (wrk2 when
BENCH_WRK2 names it, counted as wrk) at RATE msg/s for BENCH_DURATION seconds, per offered
message: what each of them, PostgreSQL, Redis and the generator spend to accept, dispatch and
deliver a message's webhooks. Below the rate that holds, the split says what each part would
need to give for a higher one.

`peer`: the same split for the peer (`measure_peer`): Jasmin's `/send` under the same wrk,
started as bench/run.py starts it (or the one already listening).

Prints one JSON document.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil

from bench.run import (
    BIN,
    JASMIN_RUN_DIR,
    JASMIN_SEND_URL,
    REDIS_URL,
    cli,
    free_port,
    fresh_database,
    jasmin_running,
    peer_ready,
    prepare_sentd,
    process,
    say,
    sentd_env,
    wrk,
)
from bench.run import DURATION as DURATION_S
from bench.sustained import end_to_end, run_generator

SKIP_START_S = 2.0
SKIP_END_S = 3.0


def _groups(main: tuple[str, int], **more: list[psutil.Process]) -> dict[str, list[psutil.Process]]:
    """The processes of each group: the measured server `main` (name, pid; with its children:
    the API's workers), `more` as given, PostgreSQL, Redis, and the load generator running (wrk,
    or the sustained bench's); a group of none is left out."""
    name, pid = main
    server = psutil.Process(pid)
    groups: dict[str, list[psutil.Process]] = {
        name: [server, *server.children(recursive=True)],
        **more,
        "postgres": [],
        "redis": [],
        "wrk": [],
    }
    for proc in psutil.process_iter(["name", "cmdline"]):
        name = proc.info["name"] or ""
        command = " ".join(proc.info["cmdline"] or [])
        if name.startswith("postgres") or command.startswith("postgres:"):
            groups["postgres"].append(proc)
        elif name.startswith("redis-server"):
            groups["redis"].append(proc)
        elif name == "wrk":
            groups["wrk"].append(proc)
        elif "bench.sustained generate" in command:
            groups.setdefault("generator", []).append(proc)
    return {name: procs for name, procs in groups.items() if procs}


def _cpu_s(procs: list[psutil.Process]) -> float:
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
        except psutil.Error:  # gone meanwhile: its time is lost, not counted twice
            continue
        total += times.user + times.system
    return total


def _schedstat(procs: list[psutil.Process]) -> dict[int, tuple[float, float]]:
    """Per process, the seconds its main thread ran and waited for a core since it started."""
    seconds: dict[int, tuple[float, float]] = {}
    for proc in procs:
        try:
            with open(f"/proc/{proc.pid}/schedstat") as stat:
                ran, waited, _ = stat.read().split()
        except OSError:
            continue
        seconds[proc.pid] = int(ran) / 1e9, int(waited) / 1e9
    return seconds


def _over_the_load(
    groups: Callable[[], dict[str, list[psutil.Process]]], main: str = "api"
) -> tuple[dict[str, float], dict[int, tuple[float, float]], float]:
    """While a load runs: each group's CPU seconds over its middle (SKIP_START_S after it
    started to SKIP_END_S before it ends), the (ran, waited) seconds of the main thread of each
    process of the `main` group, and how long the middle lasted."""
    time.sleep(SKIP_START_S)
    found = groups()
    before = {name: _cpu_s(procs) for name, procs in found.items()}
    sched_before, started = _schedstat(found[main]), time.monotonic()
    time.sleep(DURATION_S - SKIP_START_S - SKIP_END_S)
    after = {name: _cpu_s(procs) for name, procs in found.items()}
    sched_after, seconds = _schedstat(found[main]), time.monotonic() - started
    cpu = {name: after[name] - before[name] for name in found}
    sched = {
        pid: (sched_after[pid][0] - ran, sched_after[pid][1] - waited)
        for pid, (ran, waited) in sched_before.items()
        if pid in sched_after
    }
    return cpu, sched, seconds


def _split(
    cpu: dict[str, float],
    sched: dict[int, tuple[float, float]],
    seconds: float,
    messages: float,
    main: str = "api",
) -> dict[str, Any]:
    return {
        "cpu_ms_per_message": {
            name: round(1000 * used / messages, 4) for name, used in cpu.items()
        },
        "cores_busy": {name: round(used / seconds, 2) for name, used in cpu.items()},
        f"{main}_event_loops": [
            {"running": round(ran / seconds, 2), "waiting_for_a_core": round(waited / seconds, 2)}
            for ran, waited in sched.values()
            if ran > 0.01 * seconds
        ],
    }


def _check_duration() -> None:
    if DURATION_S <= SKIP_START_S + SKIP_END_S + 1:
        raise SystemExit(f"BENCH_DURATION must be over {SKIP_START_S + SKIP_END_S + 1:.0f} s")


def measure(kind: str, api_workers: int) -> dict[str, Any]:
    _check_duration()
    database = fresh_database("sentd_bench_cpu")
    env = sentd_env(SENTD_DATABASE_URL=database, SENTD_REDIS_URL=REDIS_URL)
    cli(env, "migrate")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [str(BIN / "sentd"), "serve", "--port", str(port), "--no-worker"]
    if api_workers > 1:
        args += ["--workers", str(api_workers)]
    with process(args, env, f"{base}/health/ready") as api:
        bench_env = prepare_sentd(env, base)
        url = f"{base}/v3/messages"
        wrk(url, kind, bench_env, 3)
        say(f"{kind}: {DURATION_S} s of wrk load, {api_workers} API process(es)")
        result: dict[str, Any] = {}
        load = threading.Thread(target=lambda: result.update(wrk(url, kind, bench_env, DURATION_S)))
        load.start()
        cpu, sched, seconds = _over_the_load(lambda: _groups(("api", api.pid)))
        load.join()
    per_request = 100 if kind == "batch" else 1
    return {
        "kind": kind,
        "api_workers": api_workers,
        "messages_per_s": round(result["ok_per_s"] * per_request),
        "p99_ms": result["p99_ms"],
        **_split(cpu, sched, seconds, result["ok_per_s"] * per_request * seconds),
    }


def measure_end_to_end(rate: float) -> dict[str, Any]:
    """The sustained bench's setup (`bench.sustained.end_to_end`) under its generator at `rate`
    for BENCH_DURATION seconds: CPU per offered message of every process, the worker,
    the webhook receiver and the generator among them."""
    _check_duration()
    with end_to_end("sentd_bench_cpu") as sentd:
        run_generator(sentd.url, sentd.bench, min(rate, 200.0), 5)  # warm-up
        say(f"end to end: {DURATION_S} s at {rate:,.0f} msg/s offered")
        result: dict[str, Any] = {}
        load = threading.Thread(
            target=lambda: result.update(run_generator(sentd.url, sentd.bench, rate, DURATION_S))
        )
        load.start()
        more = {
            "worker": [psutil.Process(sentd.worker.pid)],
            "receiver": [psutil.Process(sentd.receiver.pid)],
        }
        cpu, sched, seconds = _over_the_load(lambda: _groups(("api", sentd.api.pid), **more))
        load.join()
    return {
        "kind": "end-to-end",
        "offered_per_s": rate,
        "accepted_per_s": round(result["ok_per_s"]),
        "p99_ms": result["p99_ms"],
        **_split(cpu, sched, seconds, rate * seconds),
    }


def measure_peer() -> dict[str, Any]:
    """The peer's `/send` under wrk (the peer rounds' shape, BENCH_DURATION seconds after a 3 s
    warm-up): CPU per accepted request of `jasmind` (its main thread is its one Twisted
    reactor), RabbitMQ, the peer's Redis and SMSC simulator, and wrk. What the peer hands to
    its SMSC meanwhile counts too; it hands little while the load lasts (BENCHMARKS.md)."""
    _check_duration()
    why_not = peer_ready()
    if why_not:
        raise SystemExit(f"the peer cannot be measured: {why_not}")
    with jasmin_running():
        pids = dict(
            line.split() for line in (JASMIN_RUN_DIR / "pids").read_text().splitlines() if line
        )
        rabbitmq = [p for p in psutil.process_iter(["name"]) if p.info["name"] == "beam.smp"]
        more = {"rabbitmq": rabbitmq, "smsc_sim": [psutil.Process(int(pids["smsc_sim"]))]}
        wrk(JASMIN_SEND_URL, "get", {}, 3)
        say(f"peer: {DURATION_S} s of wrk load on Jasmin's /send")
        result: dict[str, Any] = {}
        load = threading.Thread(
            target=lambda: result.update(wrk(JASMIN_SEND_URL, "get", {}, DURATION_S))
        )
        load.start()
        jasmind = ("jasmind", int(pids["jasmind"]))
        cpu, sched, seconds = _over_the_load(lambda: _groups(jasmind, **more), "jasmind")
        load.join()
    return {
        "kind": "peer",
        "requests_per_s": round(result["ok_per_s"]),
        "p99_ms": result["p99_ms"],
        **_split(cpu, sched, seconds, result["ok_per_s"] * seconds, "jasmind"),
    }


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "single"
    if kind == "peer":
        print(json.dumps(measure_peer(), indent=2))
        return
    if kind == "end-to-end":
        rate = float(sys.argv[2]) if len(sys.argv) > 2 else 500.0
        print(json.dumps(measure_end_to_end(rate), indent=2))
        return
    api_workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    if kind not in ("single", "batch"):
        raise SystemExit(
            "usage: python -m bench.cpu [single|batch] [API processes] | end-to-end [msg/s] | peer"
        )
    print(json.dumps(measure(kind, api_workers), indent=2))


if __name__ == "__main__":
    main()
