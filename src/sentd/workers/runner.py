"""Run a set of loops, each on its interval, until stopped; beat a heartbeat for `/status`.

A loop's tick that raises is logged and retried on the next interval: one bad tick never stops
the loop. Loops added by later subsystems (dispatcher, webhook delivery, scheduler) plug in here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sentd.clock import Clock
from sentd.config import Settings
from sentd.db.database import Database
from sentd.db.repos import heartbeats
from sentd.guards.idempotency import Idempotency
from sentd.ids import random_token
from sentd.providers.registry import Providers

log = logging.getLogger("sentd.workers")


@dataclass(frozen=True, slots=True)
class WorkerContext:
    """What a loop's tick may use."""

    db: Database
    settings: Settings
    idempotency: Idempotency
    clock: Clock
    providers: Providers


Tick = Callable[[WorkerContext], Awaitable[None]]
HEARTBEAT_INTERVAL_S = 5.0
HEARTBEAT_STALE_S = 30.0


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
        tasks = [*self._tasks.values(), *([self._heartbeat_task] if self._heartbeat_task else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._heartbeat_task = None

    async def _run(self, loop: Loop) -> None:
        while True:
            try:
                await loop.tick(self._context)
            except Exception:
                log.exception("loop %s: tick failed; retrying in %.1fs", loop.name, loop.interval_s)
            await asyncio.sleep(loop.interval_s)

    async def _beat(self) -> None:
        while True:
            try:
                async with self._db.connection() as conn:
                    for name, task in self._tasks.items():
                        if not task.done():
                            await heartbeats.beat(conn, name, self._process)
            except Exception:
                log.exception("heartbeat failed")
            await asyncio.sleep(HEARTBEAT_INTERVAL_S)


async def api_heartbeat(db: Database, process: str, *, warn_if_shared_without_redis: bool) -> None:
    """Beat as an API process every few seconds (so `/status` lists it) and warn once when other
    API processes share the database while rate-limit counters live in each process's memory."""
    warned = False
    while True:
        try:
            async with db.connection() as conn:
                await heartbeats.beat(conn, "api", process)
                others = [
                    r
                    for r in await heartbeats.alive(conn, HEARTBEAT_STALE_S)
                    if r["loop_name"] == "api" and r["process"] != process
                ]
            if others and warn_if_shared_without_redis and not warned:
                log.warning(
                    "%d other API process(es) use this database but SENTD_REDIS_URL is not set: "
                    "rate limits and the auth-failure throttle are counted per process",
                    len(others),
                )
                warned = True
        except Exception:
            log.warning("API heartbeat failed", exc_info=True)
        await asyncio.sleep(HEARTBEAT_INTERVAL_S)


async def janitor_tick(context: WorkerContext) -> None:
    """Remove what has outlived its use: expired idempotency records, old heartbeats."""
    removed = await context.idempotency.delete_expired()
    if removed:
        log.info("janitor: removed %d expired idempotency records", removed)
    async with context.db.connection() as conn:
        await heartbeats.forget_older_than(conn, 24 * 3600)


def default_loops() -> list[Loop]:
    from sentd.workers import (
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
        Loop("template_review", 0.5, template_review.decide_due_reviews),
        Loop("webhook_delivery", 0.2, webhook_delivery.deliver_due),
        Loop("scheduler", 1.0, dispatcher.release_scheduled),
        Loop("dispatcher", 0.1, dispatcher.dispatch_due),
        Loop("simulator", 0.1, dispatcher.advance_simulated),
        Loop("voice_calls", 0.1, voice_calls.advance_calls),
    ]
