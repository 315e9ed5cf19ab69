"""Run a set of loops, each on its interval, until stopped; beat a heartbeat for `/status`.

A loop's tick that raises never stops the loop: it is retried with exponential backoff (from the
loop's interval, at least 0.5 s, up to `LOOP_BACKOFF_CAP_S`), and logged by the policy of
`sentd.failures.FailureStreak` (one ERROR with the traceback, then one-line WARNINGs, INFO on
recovery). So a lost database costs each loop one traceback, not ten a second.

Stopping is graceful: `stop()` sets `WorkerContext.stopping`; loops start no new tick, and a
tick that sees the flag starts no new work, releases the claims it has not started (their lease
is cleared, so another worker takes them at once) and returns. Ticks still running after
`SENTD_WORKER_SHUTDOWN_GRACE_S` are cancelled (their claims then wait for the lease). A process
that stops cleanly deletes its heartbeat rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sentd.clock import Clock
from sentd.config import Settings
from sentd.db.database import Database
from sentd.db.repos import heartbeats
from sentd.failures import FailureStreak
from sentd.guards.idempotency import Idempotency
from sentd.ids import random_token
from sentd.providers.registry import Providers
from sentd.services.operations import HEARTBEAT_INTERVAL_S, HEARTBEAT_STALE_S
from sentd.services.retention import Policy, apply_retention

log = logging.getLogger("sentd.workers")


@dataclass(frozen=True, slots=True)
class WorkerContext:
    """What a loop's tick may use."""

    db: Database
    settings: Settings
    idempotency: Idempotency
    clock: Clock
    providers: Providers
    # Set when the process is stopping: ticks start no new work and release unstarted claims.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)


Tick = Callable[[WorkerContext], Awaitable[None]]
LOOP_BACKOFF_CAP_S = 5.0


@dataclass(frozen=True, slots=True)
class Loop:
    name: str
    interval_s: float
    tick: Tick


def instance_name() -> str:
    """Host, pid and a short random tag: unique even for two apps in one process (tests)."""
    return f"{socket.gethostname()}:{os.getpid()}:{random_token(4)}"


class LoopRunner:
    def __init__(self, context: WorkerContext, loops: list[Loop]) -> None:
        self._context = context
        self._db = context.db
        self._loops = loops
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._process = instance_name()

    async def start(self) -> None:
        for loop in self._loops:
            self._tasks[loop.name] = asyncio.create_task(self._run(loop), name=f"sentd-{loop.name}")
        self._heartbeat_task = asyncio.create_task(self._beat(), name="sentd-heartbeat")

    async def stop(self) -> None:
        """Let running ticks wind down (release what they have not started), up to the grace
        period; cancel what is left; delete this process's heartbeats."""
        self._context.stopping.set()
        loops = list(self._tasks.values())
        if loops:
            await asyncio.wait(loops, timeout=self._context.settings.worker_shutdown_grace_s)
        tasks = [*loops, *([self._heartbeat_task] if self._heartbeat_task else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._heartbeat_task = None
        await forget_heartbeats(self._db, self._process)

    async def _run(self, loop: Loop) -> None:
        stopping = self._context.stopping
        streak = FailureStreak(
            log, f"loop {loop.name}", base_s=max(loop.interval_s, 0.5), cap_s=LOOP_BACKOFF_CAP_S
        )
        while not stopping.is_set():
            try:
                await loop.tick(self._context)
                streak.succeeded()
                delay = loop.interval_s
            except Exception as exc:
                delay = streak.failed(exc)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await stopping.wait()

    async def _beat(self) -> None:
        streak = FailureStreak(
            log, "worker heartbeat", base_s=HEARTBEAT_INTERVAL_S, cap_s=HEARTBEAT_INTERVAL_S
        )
        while True:
            try:
                async with self._db.connection() as conn:
                    for name, task in self._tasks.items():
                        if not task.done():
                            await heartbeats.beat(conn, name, self._process)
                streak.succeeded()
            except Exception as exc:
                streak.failed(exc)
            await asyncio.sleep(HEARTBEAT_INTERVAL_S)


async def forget_heartbeats(db: Database, process: str) -> None:
    """On a clean exit: delete this process's heartbeats, so nobody counts it as alive."""
    try:
        async with asyncio.timeout(2.0), db.connection() as conn:
            await heartbeats.forget_process(conn, process)
    except Exception as exc:
        log.warning("could not delete the heartbeats of %s: %s", process, exc)


async def api_heartbeat(db: Database, process: str, *, warn_if_shared_without_redis: bool) -> None:
    """Beat as an API process every few seconds (so `/status` lists it) and warn once when other
    API processes share the database while rate-limit counters live in each process's memory.

    Only processes that beat after this one's first beat count: the rows of processes killed
    before a restart (within the staleness window) are not taken for live neighbours."""
    warned = False
    since = None  # the database's time of this process's first beat
    streak = FailureStreak(log, "API heartbeat", base_s=HEARTBEAT_INTERVAL_S, cap_s=30.0)
    while True:
        delay = HEARTBEAT_INTERVAL_S
        try:
            async with db.connection() as conn:
                beat_at = await heartbeats.beat(conn, "api", process)
                since = since or beat_at
                others = [
                    r
                    for r in await heartbeats.alive(conn, HEARTBEAT_STALE_S)
                    if r["loop_name"] == "api"
                    and r["process"] != process
                    and r["last_beat_at"] > since
                ]
            streak.succeeded()
            if others and warn_if_shared_without_redis and not warned:
                log.warning(
                    "%d other API process(es) use this database but SENTD_REDIS_URL is not set: "
                    "rate limits and the auth-failure throttle are counted per process",
                    len(others),
                )
                warned = True
        except Exception as exc:
            delay = streak.failed(exc)
        await asyncio.sleep(delay)


async def janitor_tick(context: WorkerContext) -> None:
    """Remove what has outlived its use: expired idempotency records, old heartbeats, and what
    is past its retention period."""
    removed = await context.idempotency.delete_expired()
    if removed:
        log.info("janitor: removed %d expired idempotency records", removed)
    async with context.db.connection() as conn:
        await heartbeats.forget_older_than(conn, 24 * 3600)
    policy = Policy.from_settings(context.settings)
    deleted = await apply_retention(context.db, policy, context.clock.now())
    if any(deleted.values()):
        log.info("janitor: retention deleted %s", deleted, extra={"retention": deleted})


def default_loops() -> list[Loop]:
    from sentd.workers import (
        campaign_review,
        dispatcher,
        profile_review,
        template_review,
        voice_calls,
        webhook_delivery,
    )

    return [
        Loop("janitor", 60.0, janitor_tick),
        Loop("profile_review", 0.5, profile_review.decide_due_reviews),
        Loop("profile_review_callbacks", 0.5, profile_review.deliver_review_callbacks),
        Loop("campaign_review", 0.5, campaign_review.submit_and_decide),
        Loop("template_review", 0.5, template_review.decide_due_reviews),
        Loop("webhook_delivery", 0.2, webhook_delivery.deliver_due),
        Loop("scheduler", 1.0, dispatcher.release_scheduled),
        Loop("dispatcher", 0.1, dispatcher.dispatch_due),
        Loop("simulator", 0.1, dispatcher.advance_simulated),
        Loop("voice_calls", 0.1, voice_calls.advance_calls),
    ]
