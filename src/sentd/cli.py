"""The `sentd` command line."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import uuid
from datetime import datetime
from typing import Annotated, Any

import typer

from sentd import logs
from sentd.cli_campaigns import campaigns_app
from sentd.cli_orgs import orgs_app
from sentd.cli_retention import retention_app
from sentd.cli_support import (
    check_decision,
    database,
    fail,
    live_sending,
    parse_mode,
    parse_timestamp,
    print_json,
    redact,
    run,
    say,
    uuid_option,
)
from sentd.cli_templates import templates_app
from sentd.cli_users import users_app
from sentd.cli_voice import voice_app
from sentd.config import Settings, get_settings
from sentd.db import migrate as migrations
from sentd.db.database import Database
from sentd.db.location import resolve_database_url
from sentd.db.scope import Scope
from sentd.metrics import MULTIPROC_ENV
from sentd.money import units_to_micros

app = typer.Typer(help="sentd: a self-hosted Sent API v3 server.", no_args_is_help=True)
db_app = typer.Typer(help="The database sentd uses.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
billing_app = typer.Typer(help="Balances.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(billing_app, name="billing")
accounts_app = typer.Typer(help="Organizations: plans and limits.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
profiles_app = typer.Typer(help="Sender profiles: the review step.", no_args_is_help=True)
app.add_typer(profiles_app, name="profiles")
profiles_app.add_typer(campaigns_app, name="campaigns")
app.add_typer(users_app, name="users")
app.add_typer(templates_app, name="templates")
app.add_typer(retention_app, name="retention")
app.add_typer(orgs_app, name="orgs")
app.add_typer(voice_app, name="voice")

Mode = Annotated[str, typer.Option("--mode", help="live or test")]


def main() -> None:
    app()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000)")] = None,
    workers: Annotated[int, typer.Option(help="API processes")] = 1,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Run no worker loops")] = False,
) -> None:
    """Serve the API (and, unless --no-worker, the worker loops in the same process)."""
    import uvicorn

    from sentd.api.proxies import uvicorn_proxy_options
    from sentd.app import create_app
    from sentd.lifeline import PARENT_PID_ENV

    settings = get_settings()
    logs.configure_from(settings)
    dsn = database(settings, migrate=False)
    host, port = host or settings.host, port or settings.port
    say(f"Serving the Sent API v3 on http://{host}:{port} (database: {redact(dsn)})")
    say(live_sending(settings))
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": None,
        "access_log": False,
        "server_header": False,  # do not announce the server software
        **uvicorn_proxy_options(settings),
    }
    if sys.platform != "win32":
        common |= {"loop": "uvloop", "http": "httptools"}
    # uvicorn re-raises SIGTERM after its graceful shutdown; turning it into SystemExit lets the
    # exit handlers run, which stop the embedded PostgreSQL when this was its last process.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if workers > 1:
        if not settings.redis_url:
            say("warning: several processes without SENTD_REDIS_URL: rate limits are per process")
        os.environ["SENTD_RESOLVED_DATABASE_URL"] = dsn
        os.environ["SENTD_RUN_WORKERS"] = "0" if no_worker else "1"
        # The processes' metrics meet in one directory, so any of them answers for all.
        os.environ.setdefault(MULTIPROC_ENV, tempfile.mkdtemp(prefix="sentd-metrics-"))
        os.environ[PARENT_PID_ENV] = str(os.getpid())  # the children die with this process
        uvicorn.run("sentd.app:create_app_from_env", factory=True, workers=workers, **common)
    else:
        uvicorn.run(create_app(settings, database_url=dsn, run_workers=not no_worker), **common)


@app.command()
def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Messages the dispatcher, and webhook deliveries the delivery loop, handle at "
            "once (default: SENTD_WORKER_CONCURRENCY, 32)",
        ),
    ] = None,
) -> None:
    """Run the worker loops only (no HTTP), until SIGTERM or Ctrl-C."""
    from sentd.clock import Clock
    from sentd.db.budget import worker_pool_size
    from sentd.guards.idempotency import Idempotency
    from sentd.heap import freeze_startup_objects
    from sentd.outbound import close_clients
    from sentd.providers.setup import build_providers
    from sentd.workers.runner import LoopRunner, WorkerContext, default_loops

    settings = get_settings()
    if concurrency is not None:
        settings = settings.model_copy(update={"worker_concurrency": concurrency})
    # Each concurrent submission or delivery holds a connection for a moment: size the pool
    # so that concurrency, not the pool, is the bound.
    settings = settings.model_copy(update={"db_pool_max_size": worker_pool_size(settings)})
    logs.configure_from(settings)

    async def work(db: Database) -> None:
        clock = Clock()
        idempotency = Idempotency(
            db, clock, ttl_s=settings.idempotency_ttl_s, lease_s=settings.idempotency_lease_s
        )
        runner = LoopRunner(
            WorkerContext(db, settings, idempotency, clock, build_providers(settings)),
            default_loops(),
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await runner.start()
        freeze_startup_objects()
        say("Worker loops running; Ctrl-C to stop.")
        await stop.wait()
        await runner.stop()
        await close_clients()

    run(settings, work)


@app.command("worker-health")
def worker_health() -> None:
    """Exit 0 when a worker loop of this host beat within the last 30 seconds (a container's
    health check for `sentd worker`, which has no HTTP), 1 otherwise."""
    import socket

    from sentd.services import operations
    from sentd.services.operations import HEARTBEAT_STALE_S

    host = socket.gethostname()

    async def loops_here(db: Database) -> list[str]:
        async with db.connection() as conn:
            rows = await operations.alive(conn)
        return [r["loop_name"] for r in rows if r["process"].startswith(f"{host}:")]

    loops = [name for name in run(get_settings(), loops_here) if name != "api"]
    if not loops:
        fail(f"no worker loop on {host} beat in the last {HEARTBEAT_STALE_S:.0f} s")
    typer.echo(f"{len(loops)} worker loops alive on {host}")


@app.command()
def migrate() -> None:
    """Bring the database schema to the newest revision."""
    settings = get_settings()
    dsn = database(settings, migrate=True)
    say(f"Schema at {migrations.current_revision(dsn)} (database: {redact(dsn)}).")


@app.command()
def init(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    new_keys: Annotated[bool, typer.Option("--new-keys", help="Issue a fresh key pair")] = False,
) -> None:
    """Create the demo organization, its owner, live and test keys, and credited balances."""
    from sentd.services.accounts import bootstrap_demo

    settings = get_settings()
    demo = units_to_micros(settings.demo_balance)
    result = run(
        settings,
        lambda db: bootstrap_demo(
            db, demo_balance_micros=demo, currency=settings.currency, new_keys=new_keys
        ),
        migrate=True,
    )
    link = run(settings, lambda db: _demo_password_link(db, result.organization_id))
    dashboard = (
        f"{settings.public_url.rstrip('/') if settings.public_url else _local_url(settings)}"
    )
    dashboard += "/dashboard"
    if as_json:
        print_json(
            {
                "organization_id": str(result.organization_id),
                "owner_email": result.owner_email,
                "live_key": result.live_key,
                "test_key": result.test_key,
                "dashboard_url": dashboard,
                "owner_password_link": link,
            }
        )
        return
    typer.echo(("Created" if result.created else "Found") + " the demo organization.")
    typer.echo(f"  organization  {result.organization_id}")
    typer.echo(f"  owner         {result.owner_email}")
    if result.live_key and result.test_key:
        typer.echo(f"  live key      {result.live_key}")
        typer.echo(f"  test key      {result.test_key}")
        typer.echo("Keys are shown only once: store them now. To try one, in another shell:")
        typer.echo(f"  export SENTD_TEST_KEY={result.test_key}")
        typer.echo(f'  curl -H "x-api-key: $SENTD_TEST_KEY" {_local_url(settings)}/v3/me')
        typer.echo(live_sending(settings))
    else:
        typer.echo(
            "Its keys were shown when it was created; `sentd init --new-keys` issues new ones."
        )
    typer.echo(f"Dashboard: {dashboard}")
    if link:
        typer.echo(f"  Set the password of {result.owner_email} (once, within 24 hours) at:")
        typer.echo(f"  {link}")
        typer.echo("  then sign in with that email and password.")
    else:
        typer.echo(
            f"  Sign in as {result.owner_email} with the password you set; forgot it? "
            f"`sentd users password-link {result.owner_email}`"
        )
    typer.echo(f"  Operator console: `sentd users operator grant {result.owner_email}`")


async def _demo_password_link(db: Database, organization_id: uuid.UUID) -> str | None:
    """A fresh password link for the demo owner while they have no password, else None."""
    from sentd.clock import Clock
    from sentd.services import dashboard_sessions

    owner = await dashboard_sessions.owner_needs_password(db, organization_id)
    if owner is None:
        return None
    issued = await dashboard_sessions.issue_password_link(
        db, owner["email"], organization_id=organization_id, now=Clock().now()
    )
    settings = get_settings()
    base = settings.public_url.rstrip("/") if settings.public_url else _local_url(settings)
    return f"{base}/dashboard/password/set?token={issued[0][1]}" if issued else None


def _local_url(settings: Settings) -> str:
    """Where `sentd serve` will answer on this machine (a wildcard address is reached locally)."""
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.port}"


@db_app.command("url")
def db_url() -> None:
    """Print the URI of the database in use (embedded or external)."""
    settings = get_settings()
    typer.echo(resolve_database_url(settings) if settings.embedded else settings.database_url)


@keys_app.command("create")
def keys_create(
    customer: Annotated[
        str | None, typer.Option(help="Customer id (default: the only org)")
    ] = None,
    profile: Annotated[str | None, typer.Option(help="Profile id (a profile key)")] = None,
    user: Annotated[str | None, typer.Option(help="User email (default: the owner)")] = None,
    mode: Mode = "live",
    name: Annotated[str | None, typer.Option(help="A label for the key")] = None,
    expires_at: Annotated[
        str | None,
        typer.Option(
            help="Expiry, RFC 3339 (2026-12-02T15:26:14.255951Z, offsets, fractions; UTC when "
            "no offset is given)"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Issue an API key; it is printed once."""
    from sentd.services import keys

    customer_id = uuid_option(profile or customer, "--profile" if profile else "--customer")
    is_live = parse_mode(mode)
    expiry = parse_timestamp(expires_at, "--expires-at")

    async def work(db: Database) -> Any:
        try:
            return await keys.create(
                db,
                customer_id=customer_id,
                user_email=user,
                livemode=is_live,
                name=name,
                expires_at=expiry,
            )
        except keys.KeyIssueError as exc:
            fail(str(exc))

    issued = run(get_settings(), work)
    if as_json:
        print_json({"key": issued.plaintext, **_key_json(issued.record)})
    else:
        typer.echo(issued.plaintext)


@keys_app.command("list")
def keys_list(
    customer: Annotated[str | None, typer.Option(help="Only this customer's keys")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List keys (prefix, customer, mode, user, state); plaintext keys are never stored."""
    from sentd.services import keys

    customer_id = uuid_option(customer, "--customer")
    records = run(get_settings(), lambda db: keys.list_keys(db, customer_id))
    rows = [_key_json(r) | {"user_email": r["user_email"]} for r in records]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        typer.echo(
            f"{r['id']}  {r['prefix']}…  {r['mode']:<4}  customer {r['customer_id']}  "
            f"{r['user_email']}  {r['state']}"
        )


@keys_app.command("revoke")
def keys_revoke(key_or_id: Annotated[str, typer.Argument(help="The key itself or its id")]) -> None:
    """Revoke a key at once, in every running API process."""
    from sentd.services import keys

    record = run(get_settings(), lambda db: keys.revoke(db, key_or_id))
    if record is None:
        fail("no such key")
    typer.echo(f"revoked {record['id']} ({record['prefix']}…)")


@billing_app.command("credit", context_settings={"ignore_unknown_options": True})
def billing_credit(
    customer: Annotated[str, typer.Argument(help="Customer id")],
    amount: Annotated[str, typer.Argument(help="Amount in currency units, e.g. 25 or 0.05")],
    mode: Mode = "live",
) -> None:
    """Add credit to a customer's balance in one mode."""
    from sentd.services import billing

    customer_id = uuid_option(customer, "CUSTOMER")
    assert customer_id is not None
    try:
        micros = units_to_micros(amount)
    except ValueError as exc:
        fail(str(exc))
    settings = get_settings()
    scope = Scope(customer_id, parse_mode(mode))

    async def work(db: Database) -> Any:
        try:
            return await billing.credit(
                db, scope, micros, currency=settings.currency, reference="sentd billing credit"
            )
        except billing.UnknownCustomer:
            fail(f"no customer {customer_id}")

    row = run(settings, work)
    typer.echo(
        f"{scope.mode} balance of {customer_id}: {row['amount_micros'] / 1_000_000:.6f} "
        f"{row['currency']}"
    )


@app.command()
def maintenance(
    state: Annotated[str, typer.Argument(help="on or off")],
) -> None:
    """Switch maintenance mode: /v3 answers 503 INTERNAL_005 in every process; probes still work."""
    from sentd.guards.maintenance import set_maintenance

    if state not in ("on", "off"):
        fail(f"say on or off, not {state!r}")
    run(get_settings(), lambda db: set_maintenance(db, state == "on"))
    typer.echo(f"maintenance mode {state}")


@profiles_app.command("review")
def profiles_review(
    profile: Annotated[str, typer.Argument(help="Profile id")],
    approve: Annotated[bool, typer.Option("--approve", help="Approve the profile")] = False,
    reject: Annotated[str | None, typer.Option("--reject", help="Reject, with this reason")] = None,
) -> None:
    """Decide a profile that awaits review (the manual review backend)."""
    from sentd.clock import Clock
    from sentd.services import profiles

    check_decision(approve, reject)
    profile_id = uuid_option(profile, "PROFILE")
    assert profile_id is not None
    row = run(
        get_settings(),
        lambda db: profiles.record_review(
            db, profile_id, approved=approve, reason=reject, now=Clock().now()
        ),
    )
    if row is None:
        fail(f"profile {profile_id} is not awaiting review")
    typer.echo(f"profile {profile_id}: {row['status']}")


@accounts_app.command("set-plan")
def accounts_set_plan(
    customer: Annotated[str, typer.Argument(help="Organization id (or a profile's: its org)")],
    plan: Annotated[str | None, typer.Argument(help="starter, growth or enterprise")] = None,
    contacts: Annotated[int | None, typer.Option(help="Contacts quota")] = None,
    templates: Annotated[int | None, typer.Option(help="Templates quota")] = None,
    webhooks: Annotated[int | None, typer.Option(help="Webhooks quota")] = None,
    profiles: Annotated[int | None, typer.Option(help="Sender profiles quota")] = None,
    messages_per_day: Annotated[int | None, typer.Option(help="Messages a day")] = None,
    messages_per_minute: Annotated[int | None, typer.Option(help="Messages a minute")] = None,
    requests_per_minute: Annotated[
        int | None, typer.Option(help="Standard requests a minute")
    ] = None,
    requests_burst: Annotated[int | None, typer.Option(help="Standard requests a second")] = None,
    reset: Annotated[bool, typer.Option("--reset", help="Drop every override first")] = False,
) -> None:
    """Set an organization's plan and override any of its limits (every running process
    applies them at once)."""
    from sentd.plans import PLANS
    from sentd.services import plans as plan_service

    if plan is not None and plan not in PLANS:
        fail(f"plan must be one of {', '.join(PLANS)}, not {plan!r}")
    customer_id = uuid_option(customer, "CUSTOMER")
    assert customer_id is not None
    overrides = {
        "contacts": contacts,
        "templates": templates,
        "webhooks": webhooks,
        "profiles": profiles,
        "messages_per_day": messages_per_day,
        "messages_per_minute": messages_per_minute,
        "requests_per_minute": requests_per_minute,
        "requests_burst": requests_burst,
    }
    settings = get_settings()

    async def work(db: Database) -> Any:
        try:
            return await plan_service.set_plan(
                db,
                customer_id,
                plan=plan,
                overrides={k: v for k, v in overrides.items() if v is not None},
                reset=reset,
                request_rates=settings.request_rates,
            )
        except plan_service.UnknownOrganization:
            fail(f"no organization or profile {customer_id}")

    result = run(settings, work)
    typer.echo(f"organization {result.organization_id}: plan {result.plan}")
    for name, value in result.limits.items():
        marker = " (override)" if name in result.overrides else ""
        typer.echo(f"  {name:<22} {value}{marker}")


def _key_json(record: Any) -> dict[str, Any]:
    state = "revoked" if record["revoked_at"] else "active"
    if (
        state == "active"
        and record["expires_at"]
        and record["expires_at"] <= datetime.now(record["expires_at"].tzinfo)
    ):
        state = "expired"
    return {
        "id": str(record["id"]),
        "prefix": record["prefix"],
        "customer_id": str(record["customer_id"]),
        "mode": "live" if record["livemode"] else "test",
        "name": record["name"],
        "state": state,
        "created_at": record["created_at"],
        "expires_at": record["expires_at"],
        "last_used_at": record["last_used_at"],
    }
