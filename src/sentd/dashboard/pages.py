"""The pages of an organization's users: overview, keys, messages, webhooks, contacts,
templates, sender profiles, users and billing. Every page acts as the API would for a key of the
signed-in user, in the session's mode (`Context.principal`), through the same services."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from sentd import mail
from sentd.auth.permissions import Permission
from sentd.auth.principal import Principal
from sentd.dashboard import charts, web
from sentd.dashboard.account import invitation_url
from sentd.dashboard.web import Context, context
from sentd.db.scope import Scope
from sentd.db.types import Connection
from sentd.domain.messages import MESSAGE_STATUSES
from sentd.errors.exceptions import ApiError
from sentd.events.catalog import EVENT_NAMES
from sentd.phones import normalize_e164
from sentd.pricing import price_list
from sentd.services import accounts, contacts, keys, lifecycle, profiles, quotas, templates, users
from sentd.services import dashboard_reads as reads
from sentd.services import dashboard_sessions as sessions
from sentd.services import webhooks as webhook_service
from sentd.services.lifecycle import Message
from sentd.services.webhooks import Webhook

router = APIRouter(prefix=web.PREFIX, route_class=web.DashboardRoute, include_in_schema=False)
PAGE_SIZE = 50
CHANNELS = ("sms", "whatsapp", "mms", "rcs")
QUOTAS = ("contacts", "templates", "webhooks", "profiles")


def _page_number(request: Request) -> int:
    try:
        return max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        return 1


def _offset(page: int) -> int:
    return (page - 1) * PAGE_SIZE


def _listing(
    ctx: Context, section: str, rows: list[Any], total: int, page: int, **values: Any
) -> Response:
    """A section's listing (`<section>.html`): one page of its rows, with the pager's figures."""
    return web.render(
        ctx.request,
        f"{section}.html",
        ctx=ctx,
        section=section,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        **values,
    )


async def _quota_usage(conn: Connection, ctx: Context) -> list[tuple[str, int, int]]:
    """(quota, used, limit) of each of `QUOTAS`, as the API counts them."""
    return [
        (q, await quotas.usage(conn, ctx.principal, q), getattr(ctx.principal.limits, q))
        for q in QUOTAS
    ]


# -- overview ------------------------------------------------------------------------------


@router.get("/overview")
async def overview(request: Request, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("overview")
    balances = {}
    for livemode in (True, False):
        view = await accounts.account_view(
            ctx.db, Scope(ctx.session.organization_id, livemode), role=ctx.session.role
        )
        balances["live" if livemode else "test"] = view["balance"]
    today = ctx.now.astimezone(UTC).date()
    since = datetime.combine(today - timedelta(days=29), time.min, UTC)
    usage: list[tuple[str, int, int]] = []
    chart = None
    async with ctx.db.connection() as conn:
        if ctx.can(Permission.MESSAGING):
            rows = await reads.daily_counts(conn, ctx.principal.scope, since)
            chart = charts.daily_by_status(rows, today)
            sent_today = sum(r["n"] for r in rows if r["day"] == today)
            usage.append(("messages today", sent_today, ctx.principal.limits.messages_per_day))
        usage += await _quota_usage(conn, ctx)
    return web.render(
        request,
        "overview.html",
        ctx=ctx,
        section="overview",
        balances=balances,
        chart=chart,
        usage=usage,
        plan=ctx.principal.plan,
    )


# -- API keys ------------------------------------------------------------------------------


def _key_state(row: Any, now: datetime) -> str:
    if row["revoked_at"] is not None:
        return "revoked"
    if row["expires_at"] is not None and row["expires_at"] <= now:
        return "expired"
    return "active"


async def _keys_page(
    ctx: Context, created: keys.IssuedKey | None = None, error: str | None = None
) -> Response:
    rows = await keys.list_keys(ctx.db, ctx.session.organization_id)
    shown = [
        {"row": r, "state": _key_state(r, ctx.now)}
        for r in rows
        if r["livemode"] == ctx.session.livemode
    ]
    return web.render(
        ctx.request,
        "keys.html",
        ctx=ctx,
        section="keys",
        keys=shown,
        created=created,
        error=error,
        status=400 if error else 200,
    )


@router.get("/keys")
async def keys_page(request: Request, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("keys")
    return await _keys_page(ctx)


@router.post("/keys")
async def create_key(request: Request, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("keys")
    form = await ctx.form()
    name = form.get("name", "").strip()[:100] or None
    expires_at = None
    days = form.get("expires_in_days", "").strip()
    if days:
        if not days.isdigit() or not 1 <= int(days) <= 3650:
            return await _keys_page(ctx, error="Expiry: a whole number of days, 1 to 3650")
        expires_at = ctx.now + timedelta(days=int(days))
    async with ctx.db.transaction() as conn:
        issued = await keys.issue(
            conn,
            customer_id=ctx.session.organization_id,
            user_id=ctx.session.user_id,
            livemode=ctx.session.livemode,
            name=name,
            expires_at=expires_at,
        )
    return await _keys_page(ctx, created=issued)


@router.post("/keys/{key_id}/revoke")
async def revoke_key(key_id: str, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("keys")
    await ctx.form()
    record = await keys.revoke(
        ctx.db, str(web.parse_id(key_id, "key")), customer_id=ctx.session.organization_id
    )
    if record is None:
        raise web.not_found("key")
    return web.redirect("/keys", "key-revoked")


# -- messages ------------------------------------------------------------------------------


def _date(value: str, end: bool) -> datetime | None:
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day, time.max if end else time.min, UTC)


@router.get("/messages")
async def messages_page(request: Request, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("messages")
    q = request.query_params
    filters = {
        k: q.get(k, "").strip() for k in ("status", "channel", "from", "to", "number", "template")
    }
    phone = None
    if filters["number"]:
        try:
            phone = normalize_e164(filters["number"])
        except ValueError:
            phone = filters["number"]
    page = _page_number(request)
    async with ctx.db.connection() as conn:
        rows, total = await reads.message_page(
            conn,
            ctx.principal.scope,
            limit=PAGE_SIZE,
            offset=_offset(page),
            status=filters["status"] if filters["status"] in MESSAGE_STATUSES else None,
            channel=filters["channel"] if filters["channel"] in CHANNELS else None,
            since=_date(filters["from"], end=False),
            until=_date(filters["to"], end=True),
            phone_e164=phone,
            template_name=filters["template"] or None,
        )
    return _listing(
        ctx,
        "messages",
        rows,
        total,
        page,
        filters=filters,
        statuses=MESSAGE_STATUSES,
        channels=CHANNELS,
    )


@router.get("/messages/{message_id}")
async def message_page(message_id: str, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("messages")
    mid = web.parse_id(message_id, "message")
    async with ctx.db.connection() as conn:
        row = await _visible_message(conn, ctx, mid)
        events = await reads.message_events(conn, mid)
        deliveries = await reads.deliveries_of_message(conn, ctx.principal.scope, mid)
    return web.render(
        ctx.request,
        "message.html",
        ctx=ctx,
        section="messages",
        m=row,
        events=events,
        deliveries=deliveries,
        cancellable=lifecycle.cancellable(row),
        live=_still_changing(row, events, deliveries, ctx.now),
    )


# Statuses after which a message changes no more (a WhatsApp message may still be READ).
SETTLED = frozenset({"DELIVERED", "READ", "FAILED", "CANCELLED", "RECEIVED"})


def _still_changing(row: Message, events: list[Any], deliveries: list[Any], now: datetime) -> bool:
    """Whether the message's page refreshes itself: until its status is final, its webhook
    deliveries are done, and its last event is a minute old (deliveries follow events)."""
    if row.status not in SETTLED or (row.status == "DELIVERED" and row.channel == "whatsapp"):
        return True
    if any(d["state"] in ("pending", "retrying") for d in deliveries):
        return True
    last = max((e["occurred_at"] for e in events), default=None)
    return last is not None and now - last < timedelta(minutes=1)


async def _visible_message(
    conn: Connection, ctx: Context, message_id: uuid.UUID, lock: bool = False
) -> Message:
    try:
        return await lifecycle.visible(conn, ctx.principal, message_id, lock=lock)
    except ApiError:
        raise web.not_found("message") from None


@router.post("/messages/{message_id}/cancel")
async def cancel_message(message_id: str, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("messages")
    await ctx.form()
    mid = web.parse_id(message_id, "message")
    async with ctx.db.transaction() as conn:
        row = await _visible_message(conn, ctx, mid, lock=True)
        await lifecycle.cancel(conn, row, ctx.now)
    return web.redirect(f"/messages/{mid}", "cancelled")


# -- webhooks ------------------------------------------------------------------------------


@router.get("/webhooks")
async def webhooks_page(request: Request, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("webhooks")
    async with ctx.db.connection() as conn:
        rows = await reads.webhook_list(conn, ctx.principal.scope)
    return web.render(request, "webhooks.html", ctx=ctx, section="webhooks", rows=rows)


async def _webhook_or_404(
    conn: Connection, ctx: Context, webhook_id: uuid.UUID, lock: bool = False
) -> Webhook:
    try:
        return await webhook_service.get(conn, ctx.principal, webhook_id, lock=lock)
    except ApiError:
        raise web.not_found("webhook") from None


async def webhook_detail(
    ctx: Context,
    webhook_id: uuid.UUID,
    *,
    secret: str | None = None,
    test_result: Any = None,
    created: bool = False,
) -> Response:
    async with ctx.db.connection() as conn:
        row = await _webhook_or_404(conn, ctx, webhook_id)
        deliveries, total = await reads.delivery_log(conn, webhook_id, limit=PAGE_SIZE, offset=0)
        attempts = await reads.attempts(conn, [d["id"] for d in deliveries])
    by_delivery: dict[uuid.UUID, list[Any]] = {}
    for a in attempts:
        by_delivery.setdefault(a["delivery_id"], []).append(a)
    return web.render(
        ctx.request,
        "webhook.html",
        ctx=ctx,
        section="webhooks",
        w=row,
        deliveries=deliveries,
        total=total,
        attempts=by_delivery,
        secret=secret,
        test_result=test_result,
        created=created,
        event_types=sorted(EVENT_NAMES),
    )


@router.get("/webhooks/{webhook_id}")
async def webhook_page(webhook_id: str, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("webhooks")
    return await webhook_detail(ctx, web.parse_id(webhook_id, "webhook"))


@router.post("/webhooks/{webhook_id}/rotate-secret")
async def rotate_secret(webhook_id: str, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("webhooks")
    await ctx.form()
    wid = web.parse_id(webhook_id, "webhook")
    async with ctx.db.transaction() as conn:
        await _webhook_or_404(conn, ctx, wid)
        secret = await webhook_service.rotate_secret(conn, ctx.principal, wid, ctx.now)
    return await webhook_detail(ctx, wid, secret=secret)


@router.post("/webhooks/{webhook_id}/toggle")
async def toggle_webhook(webhook_id: str, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("webhooks")
    form = await ctx.form()
    wid = web.parse_id(webhook_id, "webhook")
    async with ctx.db.transaction() as conn:
        await _webhook_or_404(conn, ctx, wid)
        await webhook_service.set_active(
            conn, ctx.principal, wid, form.get("active") == "true", ctx.now
        )
    return web.redirect(f"/webhooks/{wid}", "toggled")


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/retry")
async def retry_delivery(
    webhook_id: str, delivery_id: str, ctx: Context = Depends(context)
) -> Response:
    ctx.require_section("webhooks")
    await ctx.form()
    wid = web.parse_id(webhook_id, "webhook")
    did = web.parse_id(delivery_id, "delivery")
    async with ctx.db.transaction() as conn:
        await _webhook_or_404(conn, ctx, wid)
        await webhook_service.retry_delivery(conn, ctx.principal, wid, did, ctx.now)
    return web.redirect(f"/webhooks/{wid}", "retried")


@router.post("/webhooks/{webhook_id}/test")
async def test_webhook(webhook_id: str, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("webhooks")
    form = await ctx.form()
    wid = web.parse_id(webhook_id, "webhook")
    # As the API: read, release the connection, then call the endpoint.
    async with ctx.db.connection() as conn:
        row = await _webhook_or_404(conn, ctx, wid)
    outcome = await webhook_service.send_test(
        row,
        form.get("event_type", "message.delivered"),
        ctx.now,
        ctx.settings.webhook_allow_private,
    )
    return await webhook_detail(ctx, wid, test_result=outcome)


# -- contacts, templates, profiles ---------------------------------------------------------


@router.get("/contacts")
async def contacts_page(request: Request, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("contacts")
    page = _page_number(request)
    search = request.query_params.get("search", "").strip() or None
    async with ctx.db.connection() as conn:
        rows, total = await contacts.page(
            conn,
            ctx.principal,
            search=search,
            channel=None,
            phone=None,
            limit=PAGE_SIZE,
            offset=_offset(page),
        )
    return _listing(ctx, "contacts", rows, total, page, search=search or "")


@router.get("/templates")
async def templates_page(request: Request, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("templates")
    page = _page_number(request)
    async with ctx.db.connection() as conn:
        rows, total = await templates.page(
            conn,
            ctx.principal,
            search=None,
            status=None,
            category=None,
            limit=PAGE_SIZE,
            offset=_offset(page),
        )
    return _listing(
        ctx, "templates", rows, total, page, review_backend=ctx.settings.template_review_backend
    )


@router.post("/templates/{template_id}/submit")
async def submit_template(template_id: str, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("templates")
    await ctx.form()
    tid = web.parse_id(template_id, "template")
    policy = templates.ReviewPolicy.from_settings(ctx.settings)
    async with ctx.db.transaction() as conn:
        try:
            template = await templates.get(conn, ctx.principal, tid)
        except ApiError:
            raise web.not_found("template") from None
        if template.is_inherited:
            raise web.not_found("template")
        changed = await templates.change_status(
            conn,
            template.row,
            "PENDING",
            now=ctx.now,
            review=templates.plan_review(policy, ctx.principal.livemode, ctx.now),
        )
        if changed is None:
            raise ApiError("VALIDATION_001", {"status": ["The template changed meanwhile"]})
    return web.redirect("/templates", "submitted")


def _as_organization(ctx: Context) -> Principal:
    """The principal of the session's organization itself, also while acting as a profile."""
    return dataclasses.replace(ctx.session, profile_id=None).principal(ctx.settings.request_rates)


@router.get("/profiles")
async def profiles_page(request: Request, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("profiles")
    # Every profile of the organization, also while acting as one (to switch among them).
    async with ctx.db.connection() as conn:
        rows, total = await profiles.page(conn, _as_organization(ctx), 200, 0)
    return web.render(
        request,
        "profiles.html",
        ctx=ctx,
        section="profiles",
        rows=rows,
        total=total,
        unmet={r["id"]: profiles.unmet_prerequisites(r) for r in rows},
    )


@router.post("/profiles/act")
async def act_as_profile(request: Request, ctx: Context = Depends(context)) -> Response:
    """Act as one of the organization's sender profiles, or as the organization again: every
    page then reads and writes as the API does for `x-profile-id`."""
    ctx.require_section("profiles")
    form = await ctx.form()
    chosen = form.get("profile_id", "").strip()
    profile_id = web.parse_id(chosen, "profile") if chosen else None
    if profile_id is not None:
        async with ctx.db.connection() as conn:
            try:
                await profiles.get(conn, _as_organization(ctx), profile_id)
            except ApiError:
                raise web.not_found("profile") from None
    await sessions.act_as_profile(ctx.db, ctx.session, profile_id)
    return RedirectResponse(web.safe_next(form.get("next")), status_code=303)


# -- users and invitations -----------------------------------------------------------------


async def _users_page(ctx: Context, error: str | None = None) -> Response:
    rows, total = await users.list_users(ctx.db, ctx.session.organization_id, limit=500, offset=0)
    return web.render(
        ctx.request,
        "users.html",
        ctx=ctx,
        section="users",
        rows=rows,
        total=total,
        roles=users.ASSIGNABLE_ROLES,
        manage=ctx.can(Permission.USERS_MANAGE),
        error=error,
        status=400 if error else 200,
    )


@router.get("/users")
async def users_page(request: Request, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("users")
    return await _users_page(ctx)


@router.post("/users/invite")
async def invite_user(request: Request, ctx: Context = Depends(context)) -> Response:
    ctx.require(Permission.USERS_MANAGE, "managing users")
    form = await ctx.form()
    email = form.get("email", "").strip()
    if "@" not in email or len(email) > 254:
        return await _users_page(ctx, error="Enter the email address to invite")
    async with ctx.db.transaction() as conn:
        invitation = await users.invite(
            conn,
            organization_id=ctx.session.organization_id,
            email=email,
            name=form.get("name", "").strip()[:200] or None,
            role=form.get("role", ""),
            now=ctx.now,
        )
    mail.get_mailer(ctx.settings.mail_backend).send_invitation(
        mail.InvitationMail(
            email=invitation.user["email"],
            name=invitation.user["name"],
            role=invitation.user["role"],
            organization_id=ctx.session.organization_id,
            token=invitation.token,
            expires_at=invitation.expires_at,
            accept_url=invitation_url(web.base_url(request), invitation.token),
        )
    )
    return web.redirect("/users", "invited")


@router.post("/users/{user_id}/role")
async def change_role(user_id: str, ctx: Context = Depends(context)) -> Response:
    ctx.require(Permission.USERS_MANAGE, "managing users")
    form = await ctx.form()
    uid = web.parse_id(user_id, "user")
    async with ctx.db.transaction() as conn:
        await users.update_role(
            conn,
            organization_id=ctx.session.organization_id,
            actor_user_id=ctx.session.user_id,
            user_id=uid,
            role=form.get("role", ""),
        )
    return web.redirect("/users", "role")


@router.post("/users/{user_id}/remove")
async def remove_user(user_id: str, ctx: Context = Depends(context)) -> Response:
    ctx.require(Permission.USERS_MANAGE, "managing users")
    await ctx.form()
    uid = web.parse_id(user_id, "user")
    async with ctx.db.transaction() as conn:
        await users.remove(
            conn,
            organization_id=ctx.session.organization_id,
            actor_user_id=ctx.session.user_id,
            user_id=uid,
        )
    return web.redirect("/users", "removed")


# -- billing -------------------------------------------------------------------------------


@router.get("/billing")
async def billing_page(request: Request, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("billing")
    view = await accounts.account_view(ctx.db, ctx.principal.scope, role=ctx.session.role)
    page = _page_number(request)
    async with ctx.db.connection() as conn:
        ledger = await reads.ledger(
            conn, ctx.principal.scope, limit=PAGE_SIZE, offset=_offset(page)
        )
        usage = await _quota_usage(conn, ctx)
    return web.render(
        request,
        "billing.html",
        ctx=ctx,
        section="billing",
        balance=view["balance"],
        ledger=ledger,
        page=page,
        prices=price_list(ctx.settings.pricing_file),
        usage=usage,
        plan=ctx.principal.plan,
    )
