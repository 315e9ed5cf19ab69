"""`sentd templates …`: the manual review step."""

from __future__ import annotations

from typing import Annotated

import typer

from sentd.cli_support import check_decision, fail, run, uuid_option
from sentd.config import get_settings

templates_app = typer.Typer(help="Message templates: the review step.", no_args_is_help=True)


@templates_app.command("review")
def review(
    template: Annotated[str, typer.Argument(help="Template id")],
    approve: Annotated[bool, typer.Option("--approve", help="Approve the template")] = False,
    reject: Annotated[str | None, typer.Option("--reject", help="Reject, with this reason")] = None,
) -> None:
    """Decide a template that awaits review (PENDING): approve it, or reject it with a reason."""
    from sentd.clock import Clock
    from sentd.services import templates

    check_decision(approve, reject)
    template_id = uuid_option(template, "TEMPLATE")
    assert template_id is not None
    row = run(
        get_settings(),
        lambda db: templates.record_review(
            db, template_id, approved=approve, reason=reject, now=Clock().now()
        ),
    )
    if row is None:
        fail(f"template {template_id} is not awaiting review")
    message = f"template {template_id}: {row['status']}"
    if row["rejection_reason"]:
        message += f" ({row['rejection_reason']})"
    typer.echo(message)
