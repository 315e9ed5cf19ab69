"""`sentd profiles campaigns …`: the registry decision on a profile's campaign (manual backend)."""

from __future__ import annotations

from typing import Annotated

import typer

from sentd.cli_support import check_decision, fail, run, uuid_option
from sentd.config import get_settings

campaigns_app = typer.Typer(help="Profile campaigns: the registry review.", no_args_is_help=True)


@campaigns_app.command("review")
def review(
    campaign: Annotated[str, typer.Argument(help="Campaign id")],
    approve: Annotated[bool, typer.Option("--approve", help="Approve: ACTIVE")] = False,
    reject: Annotated[str | None, typer.Option("--reject", help="Reject, with this reason")] = None,
) -> None:
    """Decide a campaign submitted to the registry: approve it, or reject it with a reason."""
    from sentd.clock import Clock
    from sentd.services import campaigns

    check_decision(approve, reject)
    campaign_id = uuid_option(campaign, "CAMPAIGN")
    assert campaign_id is not None
    row = run(
        get_settings(),
        lambda db: campaigns.record_review(
            db, campaign_id, approved=approve, reason=reject, now=Clock().now()
        ),
    )
    if row is None:
        fail(f"campaign {campaign_id} is not awaiting review")
    message = f"campaign {campaign_id}: {row['status']}"
    if row["tcr_campaign_id"]:
        message += f" ({row['tcr_campaign_id']})"
    if row["tcr_sync_error"]:
        message += f" (rejected: {row['tcr_sync_error']})"
    typer.echo(message)
