"""Signing in and out, accepting an invitation, setting a password, the live/test switch."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from sentd import mail
from sentd.auth import passwords
from sentd.dashboard import web
from sentd.dashboard.web import Context, context
from sentd.db.database import Database
from sentd.services import dashboard_sessions as sessions
from sentd.services import users as user_service

router = APIRouter(prefix=web.PREFIX, route_class=web.DashboardRoute, include_in_schema=False)


def _throttle(request: Request) -> sessions.Throttle:
    settings = web.settings_of(request)
    return sessions.Throttle(
        settings.dashboard_signin_failures, timedelta(seconds=settings.dashboard_signin_window_s)
    )


def _refusal(exc: sessions.SignInRefused) -> tuple[int, dict[str, str]]:
    """The status of a refused sign-in (429 when throttled, with its Retry-After) and headers."""
    if exc.retry_after_s is None:
        return 401, {}
    return 429, {"Retry-After": str(exc.retry_after_s)}


def _anonymous(request: Request, template: str, status: int = 200, **values: Any) -> Response:
    token = web.anonymous_csrf(request)
    response = web.render(request, template, status=status, csrf=token, **values)
    return web.with_anonymous_csrf(response, request, token)


@router.get("")
@router.get("/")
async def home(request: Request) -> Response:
    token = request.cookies.get(web.SESSION_COOKIE)
    signed_in = token and await sessions.lookup(web.db_of(request), token, web.now_of(request))
    return RedirectResponse(
        f"{web.PREFIX}/overview" if signed_in else f"{web.PREFIX}/sign-in", status_code=303
    )


@router.get("/sign-in")
async def sign_in_page(request: Request) -> Response:
    return _anonymous(
        request, "sign_in.html", next=web.safe_next(request.query_params.get("next")), email=""
    )


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = await web.read_form(request)
    web.check_anonymous_csrf(request, form)
    email = form.get("email", "").strip()
    try:
        token, _ = await sessions.sign_in(
            web.db_of(request),
            email,
            form.get("password", ""),
            now=web.now_of(request),
            ttl=timedelta(seconds=web.settings_of(request).dashboard_session_ttl_s),
            throttle=_throttle(request),
            previous_token=request.cookies.get(web.SESSION_COOKIE),
        )
    except sessions.SignInRefused as exc:
        status, headers = _refusal(exc)
        return _anonymous(
            request,
            "sign_in.html",
            status=status,
            headers=headers,
            error=str(exc),
            email=email,
            next=web.safe_next(form.get("next")),
        )
    response = RedirectResponse(web.safe_next(form.get("next")), status_code=303)
    web.set_session_cookie(response, request, token)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, ctx: Context = Depends(context)) -> Response:
    await ctx.form()
    token = request.cookies.get(web.SESSION_COOKIE)
    if token:
        await sessions.sign_out(ctx.db, token)
    response = web.redirect("/sign-in", "signed-out")
    web.clear_session_cookie(response, request)
    return response


@router.post("/mode")
async def switch_mode(request: Request, ctx: Context = Depends(context)) -> Response:
    form = await ctx.form()
    await sessions.set_mode(ctx.db, ctx.session, form.get("mode") != "test")
    return RedirectResponse(web.safe_next(form.get("next")), status_code=303)


@router.get("/organizations")
async def organizations_page(request: Request, ctx: Context = Depends(context)) -> Response:
    return await _organizations(ctx)


async def _organizations(
    ctx: Context,
    error: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return web.render(
        ctx.request,
        "organizations.html",
        ctx=ctx,
        section="organizations",
        memberships=await sessions.memberships(ctx.db, ctx.session.email),
        error=error,
        status=status,
        headers=headers,
    )


@router.post("/organizations/switch")
async def switch_organization(request: Request, ctx: Context = Depends(context)) -> Response:
    """Sign in as another membership of the same email: its password is asked again."""
    form = await ctx.form()
    target = web.parse_id(form.get("user_id", ""), "membership")
    if target == ctx.session.user_id:
        return web.redirect("/overview")
    try:
        token, _ = await sessions.switch_organization(
            ctx.db,
            ctx.session,
            target,
            form.get("password", ""),
            now=ctx.now,
            ttl=timedelta(seconds=ctx.settings.dashboard_session_ttl_s),
            throttle=_throttle(request),
            previous_token=request.cookies.get(web.SESSION_COOKIE),
        )
    except sessions.SignInRefused as exc:
        return await _organizations(ctx, str(exc), *_refusal(exc))
    response = web.redirect("/overview", "switched")
    web.set_session_cookie(response, request, token)
    return response


def _set_password_page(request: Request, kind: str) -> Response:
    """The form that sets a password with the link's token (`kind`: invitation or password)."""
    token = request.query_params.get("token", "")
    return _anonymous(request, "set_password.html", kind=kind, token=token)


@router.get("/invitation")
async def invitation_page(request: Request) -> Response:
    return _set_password_page(request, "invitation")


@router.post("/invitation")
async def accept_invitation(request: Request) -> Response:
    """Accept, set the password and land signed in as the new member (a new session replaces
    whichever this browser had)."""
    member, refused = await _set_password_form(
        request,
        "invitation",
        sessions.accept_invitation,
        (user_service.InvitationError, sessions.PasswordError),
    )
    if refused is not None:
        return refused
    token, _ = await sessions.sign_in_accepted(
        web.db_of(request),
        member["id"],
        now=web.now_of(request),
        ttl=timedelta(seconds=web.settings_of(request).dashboard_session_ttl_s),
        previous_token=request.cookies.get(web.SESSION_COOKIE),
    )
    response = web.redirect("/overview", "joined")
    web.set_session_cookie(response, request, token)
    return response


class _SetsPassword(Protocol):
    async def __call__(self, db: Database, token: str, password: str, *, now: datetime) -> Any: ...


async def _set_password_form(
    request: Request,
    kind: str,
    action: _SetsPassword,
    refusals: tuple[type[Exception], ...],
) -> tuple[Any, Response | None]:
    """The posted `set_password.html` form (of this `kind`) handed to `action` with its token:
    `action`'s result when done, else the form again with the problem (the passwords differ or
    are weak, or `action` refused with one of `refusals`)."""
    form = await web.read_form(request)
    web.check_anonymous_csrf(request, form)
    token = form.get("token", "")
    error = _mismatch(form)
    if error is None:
        try:
            done = await action(
                web.db_of(request), token, form.get("password", ""), now=web.now_of(request)
            )
        except refusals as exc:
            error = str(exc)
        else:
            return done, None
    page = _anonymous(request, "set_password.html", status=400, kind=kind, token=token, error=error)
    return None, page


def _mismatch(form: dict[str, str]) -> str | None:
    if form.get("password", "") != form.get("confirm", ""):
        return "The two passwords differ"
    return passwords.problem(form.get("password", ""))


@router.get("/password/forgot")
async def forgot_page(request: Request) -> Response:
    return _anonymous(request, "forgot.html")


@router.post("/password/forgot")
async def forgot(request: Request) -> Response:
    form = await web.read_form(request)
    web.check_anonymous_csrf(request, form)
    email = form.get("email", "").strip()
    if email:
        issued = await sessions.issue_password_link(
            web.db_of(request), email, organization_id=None, now=web.now_of(request)
        )
        mailer = mail.get_mailer(web.settings_of(request).mail_backend)
        for user, token in issued:
            mailer.send_password_link(
                mail.PasswordLinkMail(
                    email=user["email"],
                    organization_id=user["organization_id"],
                    url=password_url(web.base_url(request), token),
                    expires_at=web.now_of(request) + sessions.PASSWORD_LINK_TTL,
                )
            )
    # The same answer whether or not the email is known.
    return web.redirect("/sign-in", "reset-sent")


def password_url(base: str, token: str) -> str:
    return f"{base}{web.PREFIX}/password/set?token={token}"


def invitation_url(base: str, token: str) -> str:
    return f"{base}{web.PREFIX}/invitation?token={token}"


@router.get("/password/set")
async def set_password_page(request: Request) -> Response:
    return _set_password_page(request, "password")


@router.post("/password/set")
async def set_password(request: Request) -> Response:
    _, refused = await _set_password_form(
        request, "password", sessions.set_password_with_link, (sessions.PasswordError,)
    )
    if refused is not None:
        return refused
    response = web.redirect("/sign-in", "password")
    web.clear_session_cookie(response, request)
    return response
