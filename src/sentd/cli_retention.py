"""`sentd retention …`: apply the retention periods now, or see what they would delete."""

from __future__ import annotations

from typing import Annotated

import typer

from sentd.cli_support import print_json, run
from sentd.config import get_settings

retention_app = typer.Typer(help="Retention of old events, deliveries and messages.")


@retention_app.command("run")
def run_retention(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be deleted; delete nothing")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Delete what is past its retention period (SENTD_RETENTION_*), in bounded batches."""
    from sentd.clock import Clock
    from sentd.services.retention import Policy, apply_retention

    settings = get_settings()
    policy = Policy.from_settings(settings)
    report = run(settings, lambda db: apply_retention(db, policy, Clock().now(), dry_run=dry_run))
    if as_json:
        print_json({"dry_run": dry_run, "rows": report})
        return
    verb = "would delete" if dry_run else "deleted"
    for name, count in report.items():
        typer.echo(f"{name:<20} {verb} {count:>10,} (older than {policy.days[name]} days)")
    if not report:
        typer.echo("every retention period is 0: nothing is ever deleted")
