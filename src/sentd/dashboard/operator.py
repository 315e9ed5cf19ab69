"""The operator console (users with the server-level operator flag): organizations, plans,
credits, suspension, maintenance mode, workers and queues, manual reviews."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from sentd.dashboard import web
from sentd.dashboard.web import Context, context
from sentd.db.scope import Scope
from sentd.guards.maintenance import set_maintenance
from sentd.money import units_to_micros
from sentd.plans import PLANS
from sentd.services import billing, operations, organizations, plans, profiles, templates
from sentd.services import dashboard_reads as reads

router = APIRouter(
    prefix=web.PREFIX + "/operator", route_class=web.DashboardRoute, include_in_schema=False
)


async def _console(ctx: Context, error: str | None = None, created: object = None) -> Response:
    orgs = await organizations.list_organizations(ctx.db)
    async with ctx.db.connection() as conn:
        alive = await operations.alive(conn)
        depths = await operations.queue_depths(conn)
        waiting_templates, waiting_profiles = await reads.awaiting_review(conn)
    return web.render(
        ctx.request,
        "operator.html",
        ctx=ctx,
        section="operator",
        orgs=orgs,
        alive=alive,
        depths=depths,
        maintenance=ctx.request.app.state.maintenance.on,
        awaiting=len(waiting_templates) + len(waiting_profiles),
        plans=PLANS,
        error=error,
        created=created,
        status=400 if error else 200,
    )


@router.get("")
async def console(request: Request, ctx: Context = Depends(context)) -> Response:
    ctx.require_operator()
    return await _console(ctx)


@router.post("/maintenance")
async def maintenance(request: Request, ctx: Context = Depends(context)) -> Response:
    ctx.require_operator()
    form = await ctx.form()
    await set_maintenance(ctx.db, form.get("on") == "true")
    await request.app.state.maintenance.refresh()
    return web.redirect("/operator", "maintenance")


@router.post("/organizations")
async def create_organization(request: Request, ctx: Context = Depends(context)) -> Response:
    ctx.require_operator()
    form = await ctx.form()
    name, email = form.get("name", "").strip(), form.get("owner_email", "").strip()
    if not name or "@" not in email:
        return await _console(ctx, error="A name and the owner's email are needed")
    plan = form.get("plan") if form.get("plan") in PLANS else None
    opened = await organizations.create(
        ctx.db,
        name=name[:200],
        owner_email=email,
        owner_name=None,
        plan=plan,
        currency=ctx.settings.currency,
        live_credit_micros=0,
        test_credit_micros=0,
    )
    return await _console(ctx, created=opened)


def _org_id(value: str) -> uuid.UUID:
    return web.parse_id(value, "organization")


@router.get("/organizations/{organization_id}")
async def organization_page(organization_id: str, ctx: Context = Depends(context)) -> Response:
    ctx.require_operator()
    try:
        summary, profiles, balances = await organizations.show(ctx.db, _org_id(organization_id))
    except organizations.OrganizationError:
        raise web.not_found("organization") from None
    return web.render(
        ctx.request,
        "operator_org.html",
        ctx=ctx,
        section="operator",
        org=summary,
        profiles=profiles,
        balances=balances,
        plans=PLANS,
    )


@router.post("/organizations/{organization_id}/suspend")
async def suspend(organization_id: str, ctx: Context = Depends(context)) -> Response:
    ctx.require_operator()
    form = await ctx.form()
    suspended = form.get("suspended") == "true"
    try:
        await organizations.set_suspended(ctx.db, _org_id(organization_id), suspended)
    except organizations.OrganizationError:
        raise web.not_found("organization") from None
    return web.redirect(
        f"/operator/organizations/{organization_id}", "suspended" if suspended else "resumed"
    )


@router.post("/organizations/{organization_id}/plan")
async def set_plan(organization_id: str, ctx: Context = Depends(context)) -> Response:
    ctx.require_operator()
    form = await ctx.form()
    plan = form.get("plan", "")
    if plan not in PLANS:
        raise web.PageError(400, "Unknown plan", f"Choose one of {', '.join(PLANS)}.")
    try:
        await plans.set_plan(
            ctx.db,
            _org_id(organization_id),
            plan=plan,
            overrides={},
            reset=False,
            request_rates=ctx.settings.request_rates,
        )
    except plans.UnknownOrganization:
        raise web.not_found("organization") from None
    return web.redirect(f"/operator/organizations/{organization_id}", "plan")


@router.post("/organizations/{organization_id}/credit")
async def credit(organization_id: str, ctx: Context = Depends(context)) -> Response:
    ctx.require_operator()
    form = await ctx.form()
    try:
        amount = Decimal(form.get("amount", ""))
    except InvalidOperation:
        amount = Decimal(0)
    if amount <= 0 or amount > Decimal(1_000_000):
        raise web.PageError(400, "Bad amount", "Credit a positive amount, at most 1000000.")
    livemode = form.get("mode") != "test"
    try:
        await billing.credit(
            ctx.db,
            Scope(_org_id(organization_id), livemode),
            units_to_micros(str(amount)),
            currency=ctx.settings.currency,
            reference=f"dashboard: {ctx.session.email}",
        )
    except billing.UnknownCustomer:
        raise web.not_found("organization") from None
    return web.redirect(f"/operator/organizations/{organization_id}", "credited")


# -- manual reviews ------------------------------------------------------------------------


def _texts(definition: Any) -> list[str]:
    """The body texts of a template's definition, channel by channel, for the reviewer."""
    if isinstance(definition, str):
        definition = json.loads(definition)
    body = (definition or {}).get("body") or {}
    return [
        f"{channel}: {part['template']}"
        for channel, part in body.items()
        if isinstance(part, dict) and isinstance(part.get("template"), str)
    ]


async def _reviews(ctx: Context, error: str | None = None, status: int = 200) -> Response:
    async with ctx.db.connection() as conn:
        waiting_templates, waiting_profiles = await reads.awaiting_review(conn)
    return web.render(
        ctx.request,
        "operator_reviews.html",
        ctx=ctx,
        section="operator",
        templates=[{"row": t, "texts": _texts(t["definition"])} for t in waiting_templates],
        profiles=waiting_profiles,
        template_backend=ctx.settings.template_review_backend,
        profile_backend=ctx.settings.profile_review_backend,
        error=error,
        status=status,
    )


@router.get("/reviews")
async def reviews(request: Request, ctx: Context = Depends(context)) -> Response:
    ctx.require_operator()
    return await _reviews(ctx)


@router.post("/reviews/{kind}/{item_id}")
async def decide(kind: str, item_id: str, ctx: Context = Depends(context)) -> Response:
    """Approve, or reject with a reason: `sentd templates review` / `sentd profiles review`."""
    ctx.require_operator()
    form = await ctx.form()
    if kind not in ("templates", "profiles"):
        raise web.not_found()
    decision, reason = form.get("decision"), form.get("reason", "").strip()
    if decision not in ("approve", "reject"):
        return await _reviews(ctx, "Choose approve or reject.", 400)
    if decision == "reject" and not reason:
        return await _reviews(ctx, "A rejection needs a reason, shown to the customer.", 400)
    record = templates.record_review if kind == "templates" else profiles.record_review
    row = await record(
        ctx.db,
        web.parse_id(item_id, kind[:-1]),
        approved=decision == "approve",
        reason=reason[:500] if decision == "reject" else None,
        now=ctx.now,
    )
    if row is None:
        return await _reviews(ctx, f"That {kind[:-1]} is no longer awaiting review.", 409)
    return web.redirect("/operator/reviews", "decided")
