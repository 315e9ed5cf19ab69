"""Creating webhooks, templates and contacts from the dashboard. Each form is checked by the
API's request model and written by the API's service, in one transaction: a refused form writes
nothing and comes back with its values and a problem next to each field (`forms`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from sentd.api.schemas.contacts import ContactCreate
from sentd.api.schemas.templates import TemplateCreate
from sentd.api.schemas.webhooks import WebhookBody
from sentd.dashboard import forms, web
from sentd.dashboard.pages import webhook_detail
from sentd.dashboard.web import Context, context
from sentd.domain.templates import DEFAULT_LANGUAGE
from sentd.errors.exceptions import ApiError
from sentd.events.catalog import EVENT_NAMES
from sentd.services import contacts, templates
from sentd.services import webhooks as webhook_service

router = APIRouter(prefix=web.PREFIX, route_class=web.DashboardRoute, include_in_schema=False)

CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")

# API detail paths → the form's fields (the rest keep their own name, or go above the form).
WEBHOOK_FIELDS = {
    "display_name": "display_name",
    "endpoint_url": "endpoint_url",
    "event_types": "event_types",
    "retry_count": "retry_count",
    "timeout_seconds": "timeout_seconds",
}
TEMPLATE_FIELDS = {
    "name": "name",
    "category": "category",
    "language": "language",
    "definition": "text",
    "submit_for_review": "submit",
}
CONTACT_FIELDS = {"phone_number": "phone_number"}


def _form_page(
    ctx: Context,
    template: str,
    section: str,
    values: Mapping[str, Any],
    problems: forms.Problems | None = None,
    **extra: Any,
) -> Response:
    return web.render(
        ctx.request,
        template,
        ctx=ctx,
        section=section,
        values=values,
        problems=problems or {},
        status=400 if problems else 200,
        **extra,
    )


# -- webhooks ------------------------------------------------------------------------------


def _webhook_form(ctx: Context, values: Mapping[str, Any], problems: Any = None) -> Response:
    return _form_page(
        ctx,
        "webhook_new.html",
        "webhooks",
        values,
        problems,
        event_types=sorted(EVENT_NAMES),
    )


@router.get("/webhooks/new")
async def new_webhook(request: Request, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("webhooks")
    return _webhook_form(ctx, {"event_types": [], "retry_count": "3", "timeout_seconds": "30"})


@router.post("/webhooks")
async def create_webhook(request: Request, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("webhooks")
    await ctx.form()
    pairs = await web.read_pairs(request)
    single = dict(pairs)
    values: dict[str, Any] = {
        "display_name": single.get("display_name", "").strip(),
        "endpoint_url": single.get("endpoint_url", "").strip(),
        "event_types": [v for k, v in pairs if k == "event_types"],
        "retry_count": single.get("retry_count", "").strip() or "3",
        "timeout_seconds": single.get("timeout_seconds", "").strip() or "30",
    }
    body = forms.parse(WebhookBody, values, WEBHOOK_FIELDS)
    if not isinstance(body, WebhookBody):
        return _webhook_form(ctx, values, body)
    try:
        await webhook_service.check_destination(
            body.endpoint_url, ctx.settings.webhook_allow_private
        )
        async with ctx.db.transaction() as conn:
            row = await webhook_service.create(conn, ctx.principal, body.to_input(), ctx.now)
    except ApiError as exc:
        return _webhook_form(ctx, values, forms.from_api_error(exc, WEBHOOK_FIELDS))
    # The webhook's page, with its signing secret shown this once.
    return await webhook_detail(ctx, row.id, secret=row.signing_secret, created=True)


# -- templates -----------------------------------------------------------------------------


def _template_form(ctx: Context, values: Mapping[str, Any], problems: Any = None) -> Response:
    return _form_page(
        ctx,
        "template_new.html",
        "templates",
        values,
        problems,
        categories=CATEGORIES,
        review_backend=ctx.settings.template_review_backend,
    )


@router.get("/templates/new")
async def new_template(request: Request, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("templates")
    return _template_form(ctx, {"language": DEFAULT_LANGUAGE, "category": ""})


@router.post("/templates")
async def create_template(request: Request, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("templates")
    form = await ctx.form()
    values = {
        "name": form.get("name", "").strip(),
        "category": form.get("category", ""),
        "language": form.get("language", "").strip() or DEFAULT_LANGUAGE,
        "text": form.get("text", "").replace("\r\n", "\n"),
        "submit": form.get("submit") == "review",
    }
    # The body text is the whole definition: one text for every channel, its `{{index:name}}`
    # placeholders declared from the text itself (the API's rule when none are given).
    data: dict[str, Any] = {
        "definition": {"body": {"multiChannel": {"type": "text", "template": values["text"]}}},
        "language": values["language"],
        "submit_for_review": values["submit"],
        "creation_source": "from-dashboard",
    }
    if values["name"]:
        data["name"] = values["name"]
    if values["category"]:
        data["category"] = values["category"]
    body = forms.parse(TemplateCreate, data, TEMPLATE_FIELDS)
    if not isinstance(body, TemplateCreate):
        return _template_form(ctx, values, body)
    policy = templates.ReviewPolicy.from_settings(ctx.settings)
    try:
        async with ctx.db.transaction() as conn:
            await templates.create(conn, ctx.principal, body.to_input(), policy, ctx.now)
    except ApiError as exc:
        return _template_form(ctx, values, forms.from_api_error(exc, TEMPLATE_FIELDS))
    return web.redirect("/templates", "submitted" if values["submit"] else "created")


# -- contacts ------------------------------------------------------------------------------


def _contact_form(ctx: Context, values: Mapping[str, Any], problems: Any = None) -> Response:
    return _form_page(ctx, "contact_new.html", "contacts", values, problems)


@router.get("/contacts/new")
async def new_contact(request: Request, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("contacts")
    return _contact_form(ctx, {})


@router.post("/contacts")
async def create_contact(request: Request, ctx: Context = Depends(context)) -> Response:
    ctx.require_section("contacts")
    form = await ctx.form()
    values = {"phone_number": form.get("phone_number", "").strip()}
    body = forms.parse(ContactCreate, values, CONTACT_FIELDS)
    if not isinstance(body, ContactCreate):
        return _contact_form(ctx, values, body)
    try:
        async with ctx.db.transaction() as conn:
            await contacts.create(conn, ctx.principal, body.phone_number)
    except ApiError as exc:
        return _contact_form(ctx, values, forms.from_api_error(exc, CONTACT_FIELDS))
    return web.redirect("/contacts", "created")
