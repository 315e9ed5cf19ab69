"""`sentd users …`: invitations.

Invitations are made through `POST /v3/users`; with the `console` mail backend nobody receives
them by mail, so the operator lists them here and accepts them (or hands out the command).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from sentd.cli_support import fail, print_json, run, say, uuid_option
from sentd.clock import Clock
from sentd.config import get_settings
from sentd.db.database import Database

users_app = typer.Typer(help="Dashboard users and invitations.", no_args_is_help=True)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _json_view(view: dict[str, Any]) -> dict[str, Any]:
    return {k: _iso(v) if isinstance(v, datetime) else v for k, v in view.items()}


@users_app.command("invitations")
def invitations(
    organization: Annotated[
        str | None, typer.Option(help="Only this organization's invitations")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List pending invitations with their tokens (expired ones are marked)."""
    from sentd.services import users

    organization_id = uuid_option(organization, "--organization")
    rows = run(get_settings(), lambda db: users.pending_invitations(db, organization_id))
    now = Clock().now()
    items = [
        {
            "user_id": str(r["id"]),
            "organization_id": str(r["organization_id"]),
            "organization_name": r["organization_name"],
            "email": r["email"],
            "name": r["name"],
            "role": r["role"],
            "token": r["invitation_token"],
            "invited_at": _iso(r["invited_at"]),
            "expires_at": _iso(r["invitation_expires_at"]),
            "expired": r["invitation_expires_at"] is not None and r["invitation_expires_at"] <= now,
            "accept_command": f"sentd users accept {r['invitation_token']}",
        }
        for r in rows
    ]
    if as_json:
        print_json(items)
        return
    if not items:
        say("No pending invitations.")
        return
    for item in items:
        state = "EXPIRED" if item["expired"] else f"expires {item['expires_at']}"
        typer.echo(
            f"{item['token']}  {item['email']}  {item['role']}  "
            f"organization {item['organization_id']}  {state}"
        )


@users_app.command("accept")
def accept(
    token: Annotated[str, typer.Argument(help="The invitation token")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Accept an invitation: its user becomes active."""
    from sentd.services import users

    async def work(db: Database) -> Any:
        try:
            return await users.accept(db, token, now=Clock().now())
        except users.InvitationError as exc:
            fail(str(exc))

    row = run(get_settings(), work)
    if as_json:
        print_json(_json_view(users.user_view(row)))
        return
    typer.echo(
        f"{row['email']} is now an active {row['role']} of organization {row['organization_id']}"
    )
