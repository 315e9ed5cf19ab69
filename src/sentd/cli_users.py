"""`sentd users …`: invitations."""

from __future__ import annotations

import typer

users_app = typer.Typer(help="Dashboard users and invitations.", no_args_is_help=True)
