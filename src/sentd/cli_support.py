"""Helpers shared by the command modules: output, errors, and running work on the database."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

import psycopg
import sqlalchemy.exc
import typer

from sentd.config import Settings
from sentd.db import migrate as migrations
from sentd.db.database import Database
from sentd.db.location import resolve_database_url

T = TypeVar("T")


def say(message: str) -> None:
    typer.echo(message, err=True)


def fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(1)


def check_decision(approve: bool, reject: str | None) -> None:
    """A review command's `--approve` or `--reject REASON`: exactly one, with a reason."""
    if approve == (reject is not None):
        fail("say --approve or --reject REASON")
    if reject is not None and not reject.strip():
        fail("--reject needs a reason")


def parse_mode(mode: str) -> bool:
    if mode not in ("live", "test"):
        fail(f"--mode must be live or test, not {mode!r}")
    return mode == "live"


def database(settings: Settings, *, migrate: bool) -> str:
    """Resolve the database (starting the embedded one if needed) and bring its schema to head.

    `migrate=False` migrates only the embedded database and otherwise checks the schema is current.
    """
    if settings.embedded:
        from sentd.db.embedded import running_holders

        pgdata = settings.data_dir.resolve() / "pg"
        holders = running_holders(settings.data_dir)
        if holders:
            count = f"{len(holders)} process" + ("es" if len(holders) > 1 else "")
            say(f"Joining the embedded PostgreSQL running in {pgdata} (held by {count}) ...")
        else:
            say(f"Starting the embedded PostgreSQL in {pgdata} ...")
    try:
        dsn = resolve_database_url(settings)
        if migrate or settings.embedded:
            say("Applying schema migrations ...")
            migrations.upgrade(dsn)
            return dsn
        current, head = migrations.current_revision(dsn), migrations.head_revision()
    except (OSError, psycopg.Error, sqlalchemy.exc.SQLAlchemyError) as exc:
        fail(f"cannot reach the database {redact(settings.database_url or 'embedded')}: {exc}")
    if current != head:
        fail(
            f"the database schema is at {current or 'nothing'}, sentd needs {head}: "
            "run `sentd migrate` first"
        )
    return dsn


def run(
    settings: Settings, work: Callable[[Database], Awaitable[T]], *, migrate: bool = False
) -> T:
    dsn = database(settings, migrate=migrate)

    async def go() -> T:
        db = await Database.connect(dsn, settings.model_copy(update={"db_pool_min_size": 1}))
        try:
            return await work(db)
        finally:
            await db.close()

    if sys.platform == "win32":
        return asyncio.run(go())
    import uvloop  # the worker's loops spend their time on I/O: uvloop's loop is leaner

    return uvloop.run(go())


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


def uuid_option(value: str | None, flag: str) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        fail(f"{flag} must be a UUID, not {value!r}")
        raise


def parse_timestamp(value: str | None, flag: str) -> datetime | None:
    """An RFC 3339 / ISO-8601 time (`2026-12-02T15:26:14.255951Z`, `…+02:00`, `2026-12-02`;
    `t`/`z` in any case, a space for the `T`); one without an offset is UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().upper())
    except ValueError:
        fail(
            f"{flag} must be an RFC 3339 time such as 2026-12-02T15:26:14Z or "
            f"2026-12-02T17:26:14.25+02:00, not {value!r}"
        )
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def redact(dsn: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(dsn)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return dsn


LIVE_CHANNELS = ("sms", "mms", "whatsapp", "rcs")


def live_sending(settings: Settings) -> str:
    """One line saying what a live key's sends do with these settings."""
    chosen = {c: settings.live_provider(c) for c in LIVE_CHANNELS}
    on = [f"{channel} via {name}" for channel, name in chosen.items() if name != "none"]
    if not on:
        return (
            "Live sending: no provider is configured, so live-key sends are refused "
            "(422 PROVIDER_003) and nothing is charged. Test keys use the simulator. "
            "Set SENTD_SMS_PROVIDER, SENTD_WHATSAPP_PROVIDER, … to send live (see README)."
        )
    off = [c for c, name in chosen.items() if name == "none"]
    rest = f"; live sends on {', '.join(off)} are refused (PROVIDER_003)" if off else ""
    return f"Live sending: {', '.join(on)}{rest}."
