"""`create_app()`: the ASGI application — middleware, routers, and what lives for its lifetime."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator

import asyncpg
from fastapi import FastAPI

from sentd import __version__
from sentd.api import exception_handlers
from sentd.api.middleware import RequestContextMiddleware
from sentd.api.routes import (
    accounts,
    contacts,
    error_pages,
    health,
    messages,
    numbers,
    profiles,
    templates,
    twilio,
    twilio_voice,
    users,
    voice,
    voice_numbers,
    webhooks,
    whatsapp_webhook,
)
from sentd.auth.authenticator import Authenticator
from sentd.clock import Clock
from sentd.config import Settings, get_settings
from sentd.db.database import Database
from sentd.db.location import resolve_database_url
from sentd.db.repos import system_flags
from sentd.guards.auth_throttle import AuthFailureThrottle
from sentd.guards.idempotency import Idempotency
from sentd.guards.limiter import LimiterStorage
from sentd.guards.maintenance import MaintenanceSwitch
from sentd.guards.rate_limits import RateLimiter
from sentd.providers.setup import build_providers
from sentd.workers.runner import (
    LoopRunner,
    WorkerContext,
    api_heartbeat,
    default_loops,
    instance_name,
)

log = logging.getLogger("sentd")


def create_app(
    settings: Settings | None = None,
    *,
    database_url: str | None = None,
    run_workers: bool = False,
) -> FastAPI:
    settings = settings or get_settings()

    clock = Clock()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        dsn = database_url or resolve_database_url(settings)
        db = await Database.connect(dsn, settings)
        limiter_storage = LimiterStorage(settings.redis_url)
        state = app.state
        state.db = db
        state.limiter_storage = limiter_storage
        state.authenticator = Authenticator(db, settings.auth_cache_ttl_s, settings.request_rates)
        state.auth_throttle = AuthFailureThrottle(
            limiter_storage.storage, settings.auth_failure_limit, settings.limits_namespace
        )
        state.rate_limiter = RateLimiter(limiter_storage.storage, settings.limits_namespace)
        state.idempotency = Idempotency(
            db, clock, ttl_s=settings.idempotency_ttl_s, lease_s=settings.idempotency_lease_s
        )
        state.providers = build_providers(settings)
        state.maintenance = MaintenanceSwitch(db)
        await state.maintenance.start()
        listener = await asyncpg.connect(dsn)
        await listener.add_listener("sentd_key_revoked", state.authenticator.on_revoked)
        await listener.add_listener(system_flags.CHANNEL, state.maintenance.on_notify)
        heartbeat = asyncio.create_task(
            api_heartbeat(db, instance_name(), warn_if_shared_without_redis=not settings.redis_url)
        )
        runner = None
        if run_workers:
            runner = LoopRunner(
                WorkerContext(db, settings, state.idempotency, clock, state.providers),
                default_loops(),
            )
            await runner.start()
        try:
            yield
        finally:
            if runner:
                await runner.stop()
            for provider in state.providers.by_name.values():
                close = getattr(provider, "aclose", None)
                if close is not None:
                    await close()
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            await state.maintenance.stop()
            with contextlib.suppress(Exception):
                await listener.close()
            await limiter_storage.close()
            await db.close()

    app = FastAPI(
        title="sentd",
        version=__version__,
        description="Self-hosted Sent API v3",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.clock = clock
    exception_handlers.install(app)
    app.add_middleware(RequestContextMiddleware, settings=settings)
    for router in (
        health.router,
        error_pages.router,
        accounts.router,
        profiles.router,
        users.router,
        contacts.router,
        templates.router,
        numbers.router,
        webhooks.router,
        whatsapp_webhook.router,
        twilio.router,
        messages.router,
        voice_numbers.router,
        voice.router,
        twilio_voice.router,
    ):
        app.include_router(router)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for the processes of `sentd serve --workers N`: the parent resolved the database
    (starting the embedded one if needed) and passes its URI down."""
    return create_app(
        database_url=os.environ.get("SENTD_RESOLVED_DATABASE_URL"),
        run_workers=os.environ.get("SENTD_RUN_WORKERS") == "1",
    )
