"""What every dashboard page shares: templates, the session cookie, CSRF, role checks, and the
HTML answer to an error.

* The session cookie (`sentd_session`) is HttpOnly, SameSite=Lax, Secure over https (or as
  `SENTD_DASHBOARD_COOKIE_SECURE` says), scoped to /dashboard.
* Every form carries a CSRF token: the session's own (stored with it), or before sign-in a
  random value also set as the `sentd_csrf` cookie (double submit). A POST without the right
  one is refused with 403 before anything else happens.
* Sections follow the API's permission matrix (`sentd.auth.permissions`); a page of a section
  the role lacks is 403 with the meaning of `AUTH_004`.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from fastapi import Request
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response

from sentd.auth.permissions import Permission, allows
from sentd.auth.principal import Principal
from sentd.config import Settings
from sentd.db.database import Database
from sentd.errors.catalog import get_spec
from sentd.errors.exceptions import ApiError
from sentd.money import micros_to_units
from sentd.services import dashboard_sessions as sessions

PREFIX = "/dashboard"
SESSION_COOKIE = "sentd_session"
ANON_CSRF_COOKIE = "sentd_csrf"
HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"

ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html", "svg"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _money(micros: int | None, currency: str | None = None) -> str:
    """Micro-units as an amount with at least two decimals (`12.50`, `0.0079`)."""
    text = f"{micros_to_units(micros or 0):.6f}".rstrip("0")
    whole, _, fraction = text.partition(".")
    text = f"{whole}.{fraction.ljust(2, '0')}"
    return f"{text} {currency}" if currency else text


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "—"


ENV.filters["money"] = _money
ENV.filters["when"] = _when


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    label: str
    permission: Permission


# The navigation, in order; each section is shown to the roles the API grants its permission.
SECTIONS = (
    Section("overview", "Overview", Permission.ACCOUNT_READ),
    Section("keys", "API keys", Permission.MESSAGING),
    Section("messages", "Messages", Permission.MESSAGING),
    Section("webhooks", "Webhooks", Permission.MESSAGING),
    Section("contacts", "Contacts", Permission.MESSAGING),
    Section("templates", "Templates", Permission.MESSAGING),
    Section("profiles", "Sender profiles", Permission.PROFILES_READ),
    Section("users", "Users", Permission.USERS_READ),
    Section("billing", "Billing", Permission.BILLING),
)
SECTION = {s.name: s for s in SECTIONS}


class PageError(Exception):
    """Answered as an HTML page with `status` (and the catalog's meaning of `code`, if any)."""

    def __init__(
        self,
        status: int,
        title: str,
        message: str,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message
        self.code = code
        self.headers = dict(headers or {})


class SignInNeeded(Exception):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def forbidden(what: str) -> PageError:
    spec = get_spec("AUTH_004")
    return PageError(403, spec.message, f"Your role does not include {what}.", "AUTH_004")


def not_found(what: str = "page") -> PageError:
    return PageError(404, "Not found", f"No such {what} in this organization and mode.")


def _from_api_error(error: ApiError) -> PageError:
    spec = get_spec(error.code)
    details = "; ".join(
        f"{field}: {' '.join(messages)}" for field, messages in (error.details or {}).items()
    )
    return PageError(spec.status, spec.message, details or spec.cause, error.code)


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def db_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def now_of(request: Request) -> datetime:
    value: datetime = request.app.state.clock.now()
    return value


def base_url(request: Request) -> str:
    settings = settings_of(request)
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return str(request.base_url).rstrip("/")


def secure_cookie(request: Request) -> bool:
    mode = settings_of(request).dashboard_cookie_secure
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings_of(request).dashboard_session_ttl_s,
        path=PREFIX,
        secure=secure_cookie(request),
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path=PREFIX, secure=secure_cookie(request), httponly=True, samesite="lax"
    )


async def read_form(request: Request) -> dict[str, str]:
    """A urlencoded form's fields (the last value of a repeated name wins; see `read_multi`)."""
    return dict(await read_pairs(request))


async def read_pairs(request: Request) -> list[tuple[str, str]]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return []  # no fields: not even the CSRF token, so the form is refused
    body = await request.body()
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise PageError(400, "Bad form", "The form is not UTF-8.") from None


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def check_anonymous_csrf(request: Request, form: Mapping[str, str]) -> None:
    if not _same(form.get("csrf"), request.cookies.get(ANON_CSRF_COOKIE)):
        raise csrf_refused()


def csrf_refused() -> PageError:
    return PageError(
        403,
        "Form refused",
        "The form's security token is missing or out of date. Reload the page and try again.",
    )


def anonymous_csrf(request: Request) -> str:
    return request.cookies.get(ANON_CSRF_COOKIE) or secrets.token_urlsafe(24)


def with_anonymous_csrf(response: Response, request: Request, token: str) -> Response:
    if request.cookies.get(ANON_CSRF_COOKIE) != token:
        response.set_cookie(
            ANON_CSRF_COOKIE,
            token,
            path=PREFIX,
            secure=secure_cookie(request),
            httponly=True,
            samesite="lax",
        )
    return response


@dataclass
class Context:
    """A signed-in request: its session, and the principal the services are called with."""

    request: Request
    session: sessions.Session
    principal: Principal

    @property
    def db(self) -> Database:
        return db_of(self.request)

    @property
    def now(self) -> datetime:
        return now_of(self.request)

    @property
    def settings(self) -> Settings:
        return settings_of(self.request)

    def can(self, permission: Permission) -> bool:
        return allows(self.session.role, permission)

    def require(self, permission: Permission, what: str) -> None:
        if not self.can(permission):
            raise forbidden(what)

    def require_section(self, name: str) -> None:
        section = SECTION[name]
        self.require(section.permission, f"the {section.label} section")

    def require_operator(self) -> None:
        if not self.session.operator:
            raise PageError(
                403, "Operators only", "This console is for the server's operators.", None
            )

    async def form(self) -> dict[str, str]:
        """The posted form, once its CSRF token is the session's."""
        form = await read_form(self.request)
        if not _same(form.get("csrf"), self.session.csrf_token):
            raise csrf_refused()
        return form


async def context(request: Request) -> Context:
    """The dependency of every signed-in page."""
    token = request.cookies.get(SESSION_COOKIE)
    session = await sessions.lookup(db_of(request), token, now_of(request)) if token else None
    if session is None:
        raise SignInNeeded(request.url.path)
    if session.suspended and not session.operator:
        spec = get_spec("ACCOUNT_003")
        raise PageError(403, spec.message, spec.cause, "ACCOUNT_003")
    principal = session.principal(settings_of(request).request_rates)
    return Context(request, session, principal)


def parse_id(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise not_found(what) from None


def render(
    request: Request,
    template: str,
    *,
    ctx: Context | None = None,
    status: int = 200,
    section: str | None = None,
    headers: Mapping[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    session = ctx.session if ctx is not None else None
    nav = [s for s in SECTIONS if ctx is not None and ctx.can(s.permission)]
    html = ENV.get_template(template).render(
        session=session,
        nav=nav,
        section=section,
        prefix=PREFIX,
        csrf=session.csrf_token if session is not None else values.pop("csrf", ""),
        mode="live" if session is None or session.livemode else "test",
        notice=NOTICES.get(request.query_params.get("done", "")),
        request_path=request.url.path,
        **values,
    )
    return HTMLResponse(html, status_code=status, headers=dict(headers or {}))


def redirect(path: str, done: str | None = None) -> RedirectResponse:
    target = PREFIX + path + (f"?done={quote(done)}" if done else "")
    return RedirectResponse(target, status_code=303)


# Fixed notices shown after a redirect (`?done=…`): no text of the request is reflected.
NOTICES = {
    "key-revoked": "The key was revoked.",
    "mode": "Mode switched.",
    "cancelled": "The message was cancelled.",
    "rotated": "A new signing secret is in force.",
    "toggled": "The webhook's state changed.",
    "retried": "The delivery is queued to be sent again.",
    "tested": "A test event was sent; its outcome is shown below.",
    "invited": "The invitation was sent.",
    "role": "The role was changed.",
    "removed": "The user was removed and their keys revoked.",
    "credited": "The balance was credited.",
    "suspended": "The organization is suspended.",
    "resumed": "The organization is resumed.",
    "plan": "The plan was changed.",
    "maintenance": "Maintenance mode changed.",
    "created": "Created.",
    "switched": "You are signed in to this organization.",
    "submitted": "Submitted for review.",
    "decided": "The review decision was recorded.",
    "password": "Your password is set. Sign in with it.",
    "joined": "Welcome: the invitation is accepted and your password is set.",
    "signed-out": "You are signed out.",
    "reset-sent": "If an account has this email, a link to set its password was sent.",
}


def error_page(request: Request, error: PageError) -> HTMLResponse:
    spec = get_spec(error.code) if error.code else None
    return render(
        request,
        "error.html",
        status=error.status,
        headers=error.headers,
        error=error,
        spec=spec,
    )


class DashboardRoute(APIRoute):
    """Answers the dashboard's errors as HTML pages, never as the API's JSON envelope."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInNeeded as exc:
                target = f"{PREFIX}/sign-in"
                if exc.path not in (PREFIX, PREFIX + "/"):
                    target += f"?next={quote(exc.path)}"
                response = RedirectResponse(target, status_code=303)
            except PageError as exc:
                response = error_page(request, exc)
            except ApiError as exc:
                response = error_page(request, _from_api_error(exc))
                response.headers.update(exc.headers or {})
            response.headers["Cache-Control"] = "no-store"
            return response

        return handle


def safe_next(value: str | None) -> str:
    """A post-sign-in destination inside the dashboard only (no other host, no scheme)."""
    if value and value.startswith(PREFIX + "/") and "//" not in value and "\\" not in value:
        return value
    return PREFIX + "/overview"
