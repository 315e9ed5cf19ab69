"""`sentd templates …`: the manual review step."""

from __future__ import annotations

import typer

templates_app = typer.Typer(help="Message templates: the review step.", no_args_is_help=True)
