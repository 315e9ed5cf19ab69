"""`sentd users …`: invitations.

Invitations are made through `POST /v3/users`. Their tokens are stored as digests only: the
plaintext is shown once, in the mail (the `console` backend's log line), and `sentd users reissue`
replaces a pending invitation's token with a fresh one, printed once, for the operator to hand out.
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
    """List pending invitations (expired ones are marked); tokens are never shown here."""
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
            "invited_at": _iso(r["invited_at"]),
            "expires_at": _iso(r["invitation_expires_at"]),
            "expired": r["invitation_expires_at"] is not None and r["invitation_expires_at"] <= now,
            "reissue_command": f"sentd users reissue {r['email']} --organization "
            f"{r['organization_id']}",
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
            f"{item['email']}  {item['role']}  organization {item['organization_id']}  {state}"
        )
    say("Tokens are shown only once; `sentd users reissue EMAIL` issues a fresh one.")


@users_app.command("reissue")
def reissue(
    email: Annotated[str, typer.Argument(help="The invitee's email")],
    organization: Annotated[
        str | None, typer.Option(help="The inviting organization (when several invited EMAIL)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Issue a fresh token (valid 7 days) for a pending invitation and print it once; the
    invitation's previous token stops working."""
    from sentd.services import users

    organization_id = uuid_option(organization, "--organization")

    async def work(db: Database) -> Any:
        try:
            return await users.reissue(
                db, email, organization_id=organization_id, now=Clock().now()
            )
        except users.InvitationError as exc:
            fail(str(exc))

    invitation = run(get_settings(), work)
    command = f"sentd users accept {invitation.token}"
    if as_json:
        print_json(
            {
                "user_id": str(invitation.user["id"]),
                "organization_id": str(invitation.user["organization_id"]),
                "email": invitation.user["email"],
                "role": invitation.user["role"],
                "token": invitation.token,
                "expires_at": _iso(invitation.expires_at),
                "accept_command": command,
            }
        )
        return
    typer.echo(invitation.token)
    say(
        f"A fresh invitation token for {invitation.user['email']}, valid until "
        f"{invitation.expires_at.isoformat()} and shown only once; accept with: {command}"
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


def _dashboard_url(settings: Any) -> str:
    if settings.public_url:
        return str(settings.public_url).rstrip("/")
    from sentd.cli import _local_url

    return _local_url(settings)


@users_app.command("password-link")
def password_link(
    email: Annotated[str, typer.Argument(help="The user's email")],
    organization: Annotated[
        str | None, typer.Option(help="Only the user of this organization")
    ] = None,
) -> None:
    """Print a one-time link (valid 24 hours) that sets a dashboard password for EMAIL."""
    from sentd.services import dashboard_sessions

    settings = get_settings()
    organization_id = uuid_option(organization, "--organization")
    issued = run(
        settings,
        lambda db: dashboard_sessions.issue_password_link(
            db, email, organization_id=organization_id, now=Clock().now()
        ),
    )
    if not issued:
        fail(
            f"no active user {email}" + (f" in organization {organization}" if organization else "")
        )
    for user, token in issued:
        typer.echo(f"{_dashboard_url(settings)}/dashboard/password/set?token={token}")
        say(f"Sets the password of {user['email']} (organization {user['organization_id']}).")


operator_app = typer.Typer(help="The server-level operator role (the dashboard's console).")
users_app.add_typer(operator_app, name="operator")


def _set_operator(email: str, organization: str | None, grant: bool) -> None:
    from sentd.services import dashboard_sessions

    organization_id = uuid_option(organization, "--organization")

    async def work(db: Database) -> Any:
        try:
            return await dashboard_sessions.set_operator(
                db, email, organization_id=organization_id, operator=grant
            )
        except LookupError as exc:
            fail(str(exc))

    row = run(get_settings(), work)
    typer.echo(
        f"{row['email']} (organization {row['organization_id']}) is "
        + ("now an operator" if grant else "no longer an operator")
    )


@operator_app.command("grant")
def operator_grant(
    email: Annotated[str, typer.Argument(help="The user's email")],
    organization: Annotated[str | None, typer.Option(help="The user's organization")] = None,
) -> None:
    """Make a user an operator: the dashboard shows them the operator console."""
    _set_operator(email, organization, True)


@operator_app.command("revoke")
def operator_revoke(
    email: Annotated[str, typer.Argument(help="The user's email")],
    organization: Annotated[str | None, typer.Option(help="The user's organization")] = None,
) -> None:
    """Take the operator role away."""
    _set_operator(email, organization, False)


@operator_app.command("list")
def operator_list() -> None:
    """List the operators."""
    from sentd.services import dashboard_sessions

    for row in run(get_settings(), dashboard_sessions.list_operators):
        typer.echo(f"{row['email']}  organization {row['organization_id']}")
