"""`sentd voice …`: simulated calls for trying a voice callback without a phone."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from sentd.cli_support import fail, parse_mode, run
from sentd.config import get_settings
from sentd.db.database import Database

voice_app = typer.Typer(help="Voice: simulated calls.", no_args_is_help=True)
simulate_app = typer.Typer(help="Place simulated calls.", no_args_is_help=True)
voice_app.add_typer(simulate_app, name="simulate")


@simulate_app.command("inbound")
def inbound(
    to: Annotated[str, typer.Option("--to", help="The voice number called (E.164)")],
    caller: Annotated[
        str | None, typer.Option("--from", help="The caller (E.164); omit for a withheld number")
    ] = None,
    mode: Annotated[str, typer.Option("--mode", help="test or live")] = "test",
) -> None:
    """Place a simulated inbound call: the number's callback is asked what to do with it, and
    the running worker plays the call (its events go to your webhooks)."""
    from sentd.clock import Clock
    from sentd.phones import InvalidPhoneNumber, normalize_e164
    from sentd.services import calls

    try:
        to_e164 = normalize_e164(to)
        from_e164 = normalize_e164(caller) if caller else None
    except InvalidPhoneNumber as exc:
        fail(str(exc))
    livemode = parse_mode(mode)
    settings = get_settings()
    if livemode and settings.voice_provider != "simulator":
        fail("live calls are simulated only with SENTD_VOICE_PROVIDER=simulator")

    async def work(db: Database) -> Any:
        try:
            return await calls.place_inbound(
                db, livemode=livemode, to=to_e164, caller=from_e164, now=Clock().now()
            )
        except calls.NotAVoiceNumber:
            fail(f"{to_e164} is not an active voice number in {mode} mode")

    row = run(settings, work)
    typer.echo(f"call {row['id']}: {row['status']} ({from_e164 or 'anonymous'} -> {to_e164})")


@simulate_app.command("outbound")
def outbound(
    token: Annotated[str, typer.Option("--token", help="A voice token from POST /v3/voice/tokens")],
    to: Annotated[
        str, typer.Option("--to", help="Who the app user dials: an E.164 number or user:IDENTITY")
    ],
) -> None:
    """Place a simulated call from an app user holding a (test-mode) voice token; the bound
    number's callback is asked where to connect it."""
    from sentd.clock import Clock
    from sentd.phones import InvalidPhoneNumber, normalize_e164
    from sentd.services import calls
    from sentd.voice.contract import IDENTITY

    callee: tuple[str, str]
    if to.startswith("user:"):
        identity = to.removeprefix("user:")
        if not IDENTITY.fullmatch(identity):
            fail("an identity is letters, digits, - and _")
        callee = ("user", identity)
    else:
        try:
            callee = ("number", normalize_e164(to))
        except InvalidPhoneNumber as exc:
            fail(str(exc))

    async def work(db: Database) -> Any:
        try:
            return await calls.place_outbound(db, token=token, callee=callee, now=Clock().now())
        except calls.InvalidToken:
            fail("the token is unknown or expired (sandbox tokens are not stored)")
        except calls.NotAVoiceNumber as exc:
            fail(f"{exc} no longer carries calls")

    row = run(get_settings(), work)
    typer.echo(f"call {row['id']}: {row['status']} (user:{row['from_value']} -> {to})")
