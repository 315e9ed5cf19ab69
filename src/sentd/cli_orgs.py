"""`sentd orgs …`: the operator's organizations (see docs/organizations.md)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

import typer

from sentd.cli_support import fail, print_json, run, say, uuid_option
from sentd.config import get_settings
from sentd.db.database import Database
from sentd.money import micros_to_units, units_to_micros
from sentd.plans import PLANS

orgs_app = typer.Typer(
    help="Organizations: create, list, show, suspend and resume.", no_args_is_help=True
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _summary_json(row: Any) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "name": row["name"],
        "owner_email": row["owner_email"],
        "plan": row["plan"],
        "status": "suspended" if row["suspended_at"] else "active",
        "suspended_at": _iso(row["suspended_at"]),
        "profiles": row["profiles"],
        "members": row["members"],
        "active_keys": row["active_keys"],
        "created_at": _iso(row["created_at"]),
    }


def _balance_json(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    micros = row["amount_micros"]
    return {"amount": micros_to_units(micros), "amount_micros": micros, "currency": row["currency"]}


@orgs_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The organization's name")],
    owner: Annotated[str, typer.Option("--owner", help="The owner's email")],
    owner_name: Annotated[str | None, typer.Option(help="The owner's name")] = None,
    plan: Annotated[
        str | None, typer.Option(help="starter (default), growth or enterprise")
    ] = None,
    credit: Annotated[
        str, typer.Option(help="Opening live balance, in currency units (default 0)")
    ] = "0",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Create an organization with its owner, a live and a test key (printed once) and a balance
    in each mode: live gets --credit, test gets SENTD_DEMO_BALANCE of play money."""
    from sentd.services import organizations

    name = name.strip()
    owner = owner.strip()
    if not name:
        fail("NAME must not be empty")
    if len(owner) > 254 or not _EMAIL.match(owner):
        fail(f"--owner must be an email address, not {owner!r}")
    if plan is not None and plan not in PLANS:
        fail(f"--plan must be one of {', '.join(PLANS)}, not {plan!r}")
    try:
        live_credit = units_to_micros(credit)
    except ValueError as exc:
        fail(f"--credit: {exc}")
    settings = get_settings()
    opened = run(
        settings,
        lambda db: organizations.create(
            db,
            name=name,
            owner_email=owner,
            owner_name=owner_name,
            plan=plan,
            currency=settings.currency,
            live_credit_micros=live_credit,
            test_credit_micros=units_to_micros(settings.demo_balance),
        ),
    )
    org = opened.organization
    if as_json:
        print_json(
            {
                "organization_id": str(org.id),
                "name": org.name,
                "owner_email": opened.owner["email"],
                "plan": plan or "starter",
                "live_key": opened.live_key,
                "test_key": opened.test_key,
            }
        )
        return
    typer.echo(f"Created organization {org.name!r}.")
    typer.echo(f"  organization  {org.id}")
    typer.echo(f"  owner         {opened.owner['email']}")
    typer.echo(f"  plan          {plan or 'starter'}")
    typer.echo(f"  live key      {opened.live_key}")
    typer.echo(f"  test key      {opened.test_key}")
    say("Keys are shown only once: store them now.")


@orgs_app.command("list")
def list_orgs(as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """List organizations: plan, status, owner and counts."""
    from sentd.services import organizations

    rows = [_summary_json(r) for r in run(get_settings(), organizations.list_organizations)]
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("No organizations; `sentd orgs create NAME --owner EMAIL` makes one.")
        return
    for r in rows:
        typer.echo(
            f"{r['id']}  {r['status']:<9}  {r['plan']:<10}  {r['name']}  "
            f"(owner {r['owner_email']}, {r['profiles']} profiles, {r['active_keys']} active keys)"
        )


@orgs_app.command("show")
def show(
    organization: Annotated[str, typer.Argument(help="Organization id")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Show one organization: status, plan and limit overrides, balances, profiles."""
    from sentd.services import organizations

    organization_id = uuid_option(organization, "ID")
    assert organization_id is not None

    async def work(db: Database) -> organizations.Shown:
        try:
            return await organizations.show(db, organization_id)
        except organizations.OrganizationError as exc:
            fail(str(exc))

    row, profiles, modes = run(get_settings(), work)
    view = _summary_json(row) | {
        "email": row["email"],
        "limit_overrides": dict(row["limits"] or {}),
        "balances": {mode: _balance_json(b) for mode, b in modes.items()},
        "profile_list": [{"id": str(p.id), "name": p.name, "status": p.status} for p in profiles],
        "updated_at": _iso(row["updated_at"]),
    }
    if as_json:
        print_json(view)
        return
    typer.echo(f"{view['name']}  ({view['id']})")
    typer.echo(
        f"  status        {view['status']}"
        + (f" since {view['suspended_at']}" if view["suspended_at"] else "")
    )
    typer.echo(f"  owner         {view['owner_email']}")
    typer.echo(f"  plan          {view['plan']}")
    for limit, value in view["limit_overrides"].items():
        typer.echo(f"    {limit:<22} {value} (override)")
    for mode, balance in view["balances"].items():
        shown = f"{balance['amount']:.6f} {balance['currency']}" if balance else "none"
        typer.echo(f"  {mode} balance  {shown}")
    typer.echo(f"  members       {view['members']}")
    typer.echo(f"  active keys   {view['active_keys']}")
    typer.echo(f"  profiles      {view['profiles']}")
    for p in view["profile_list"]:
        typer.echo(f"    {p['id']}  {p['status']}  {p['name']}")


def _set_suspended(organization: str, suspended: bool, as_json: bool) -> None:
    from sentd.services import organizations

    organization_id = uuid_option(organization, "ID")
    assert organization_id is not None

    async def work(db: Database) -> Any:
        try:
            return await organizations.set_suspended(db, organization_id, suspended)
        except organizations.OrganizationError as exc:
            fail(str(exc))

    result = run(get_settings(), work)
    status = "suspended" if suspended else "active"
    if as_json:
        print_json(
            {"organization_id": str(organization_id), "status": status, "changed": result.changed}
        )
        return
    if not result.changed:
        typer.echo(f"organization {organization_id} was already {status}")
    elif suspended:
        typer.echo(
            f"organization {organization_id} suspended: its {result.keys_notified} keys (and its "
            "profiles') answer 403 ACCOUNT_003 until `sentd orgs resume`"
        )
    else:
        typer.echo(f"organization {organization_id} resumed: its keys work again")


@orgs_app.command("suspend")
def suspend(
    organization: Annotated[str, typer.Argument(help="Organization id")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Suspend an organization at once, in every running process: its keys and its profiles'
    answer 403 ACCOUNT_003. Nothing is deleted; `sentd orgs resume` undoes it."""
    _set_suspended(organization, True, as_json)


@orgs_app.command("resume")
def resume(
    organization: Annotated[str, typer.Argument(help="Organization id")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Lift a suspension: the organization's keys work again."""
    _set_suspended(organization, False, as_json)
