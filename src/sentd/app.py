"""`create_app()`: the ASGI application — middleware, routers, and what lives for its lifetime."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator

from fastapi import FastAPI

from sentd import __version__, outbound, wiring
from sentd.api import exception_handlers, openapi
from sentd.api.access_log import AccessLogMiddleware
from sentd.api.intake import RequestIntakeMiddleware
from sentd.api.lanes import AppWithLanes
from sentd.api.load import InFlight
from sentd.api.middleware import RequestContextMiddleware
from sentd.api.routes import (
    accounts,
    api_docs,
    campaigns,
    contacts,
    error_pages,
    health,
    messages,
    metrics,
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
from sentd.dashboard import routes as dashboard_routes
from sentd.db.database import Database
from sentd.db.listener import Listener
from sentd.db.location import resolve_database_url
from sentd.db.repos import api_keys, system_flags
from sentd.guards.auth_throttle import AuthFailureThrottle
from sentd.guards.idempotency import Idempotency
from sentd.guards.limiter import LimiterStorage
from sentd.guards.maintenance import MaintenanceSwitch
from sentd.guards.rate_limits import RateLimiter
from sentd.heap import freeze_startup_objects
from sentd.lifeline import die_with_parent_from_env
from sentd.metrics import forget_this_process
from sentd.providers.setup import build_providers
from sentd.services.send_groups import SendGroups
from sentd.workers.runner import (
    LoopRunner,
    WorkerContext,
    api_heartbeat,
    default_loops,
    forget_heartbeats,
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
        limiter_storage = LimiterStorage(
            settings.redis_url,
            timeout_s=settings.redis_timeout_ms / 1000,
            cooldown_s=settings.redis_breaker_cooldown_s,
        )
        state = app.state
        state.db = db
        state.limiter_storage = limiter_storage
        state.authenticator = Authenticator(db, settings.auth_cache_ttl_s, settings.request_rates)
        state.auth_throttle = AuthFailureThrottle(
            limiter_storage,
            settings.auth_failure_limit,
            settings.auth_failure_address_limit,
            settings.limits_namespace,
        )
        state.rate_limiter = RateLimiter(limiter_storage, settings.limits_namespace)
        state.idempotency = Idempotency(
            db, clock, ttl_s=settings.idempotency_ttl_s, lease_s=settings.idempotency_lease_s
        )
        state.providers = build_providers(settings)
        state.send_groups = SendGroups(db)
        state.call_commands = wiring.call_commands(db, settings, clock)
        state.maintenance = MaintenanceSwitch(db)
        await state.maintenance.start()
        authenticator = state.authenticator

        async def notifications_lost() -> None:
            authenticator.suspend_cache()

        async def notifications_restored() -> None:
            authenticator.resume_cache()
            await state.maintenance.refresh()

        listener = Listener(
            dsn,
            {
                "sentd_key_revoked": authenticator.on_revoked,
                api_keys.LIMITS_CHANNEL: authenticator.on_limits_changed,
                system_flags.CHANNEL: state.maintenance.on_notify,
            },
            on_lost=notifications_lost,
            on_restored=notifications_restored,
            connect_timeout_s=settings.db_connect_timeout_s,
        )
        await listener.start()
        state.listener = listener
        api_process = instance_name()
        heartbeat = asyncio.create_task(
            api_heartbeat(db, api_process, warn_if_shared_without_redis=not settings.redis_url)
        )
        runner = None
        if run_workers:
            runner = LoopRunner(
                WorkerContext(db, settings, state.idempotency, clock, state.providers),
                default_loops(),
            )
            await runner.start()
        freeze_startup_objects()
        try:
            yield
        finally:
            if runner:
                await runner.stop()
            for provider in state.providers.by_name.values():
                close = getattr(provider, "aclose", None)
                if close is not None:
                    await close()
            await outbound.close_clients()
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            await forget_heartbeats(db, api_process)
            await state.maintenance.stop()
            await listener.stop()
            await limiter_storage.close()
            await state.idempotency.close()
            await db.close()
            forget_this_process()

    app = AppWithLanes(
        title="sentd",
        version=__version__,
        description="Self-hosted Sent API v3",
        lifespan=lifespan,
        docs_url=None,  # api_docs serves it, with local assets
        redoc_url=None,
        # sentd's metrics are Prometheus (/metrics) and its logs its own. FastAPI's native
        # OpenTelemetry stays off: asking whether a provider is configured read the environment
        # on every request (~3 % of a send's time).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.openapi = lambda: openapi.describe(app)  # type: ignore[method-assign]
    app.mount(api_docs.ASSETS_PATH, api_docs.ASSETS, name="docs-assets")
    if settings.dashboard_enabled:
        dashboard_routes.install(app)
    app.state.settings = settings
    app.state.clock = clock
    # Explicit registrations (nothing registers itself on import): `sentd.wiring`.
    app.state.keywords = wiring.keywords(settings)
    app.state.whatsapp_handlers = wiring.whatsapp_handlers(app.state.keywords)
    exception_handlers.install(app)
    app.state.in_flight = InFlight(settings.max_in_flight)
    app.add_middleware(RequestIntakeMiddleware, settings=settings, in_flight=app.state.in_flight)
    app.add_middleware(RequestContextMiddleware, settings=settings)
    app.add_middleware(AccessLogMiddleware, enabled=settings.access_log)
    # The send route first, on the app's own router: Starlette tries routes in order, and matching
    # a path against the routers before it was ~8 % of a send's time in the API process.
    app.router.routes.insert(0, messages.send_route())
    for router in (
        messages.router,
        health.router,
        metrics.router,
        api_docs.router,
        error_pages.router,
        accounts.router,
        profiles.router,
        campaigns.router,
        users.router,
        contacts.router,
        templates.router,
        numbers.router,
        webhooks.router,
        whatsapp_webhook.router,
        twilio.router,
        voice_numbers.router,
        voice.router,
        twilio_voice.router,
    ):
        app.include_router(router)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for the processes of `sentd serve --workers N`: the parent resolved the database
    (starting the embedded one if needed) and passes its URI down. A child stops when the
    parent is gone, even if it was killed with SIGKILL (`sentd.lifeline`)."""
    die_with_parent_from_env()
    return create_app(
        database_url=os.environ.get("SENTD_RESOLVED_DATABASE_URL"),
        run_workers=os.environ.get("SENTD_RUN_WORKERS") == "1",
    )
