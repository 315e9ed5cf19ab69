"""Signing in to the dashboard: passwords, sessions, password-set links, the operator flag and
the per-account sign-in throttle (see docs/dashboard.md).

A session's cookie carries a random token; only its SHA-256 is stored (`dashboard_sessions`).
Every sign-in makes a new session (the token presented with it, if any, is deleted): the cookie
rotates. Setting a password ends every session of the user.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sentd.auth import passwords
from sentd.auth.permissions import Role
from sentd.auth.principal import Principal
from sentd.db.database import Database
from sentd.db.repos import dashboard, users
from sentd.db.types import Connection
from sentd.plans import effective_limits
from sentd.services import users as user_service

PASSWORD_LINK_TTL = timedelta(hours=24)
PASSWORD_TOKEN_PREFIX = "pwd_"


class SignInRefused(Exception):
    """Wrong email or password, or too many failures; `retry_after_s` set for the latter."""

    def __init__(self, message: str, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PasswordError(Exception):
    """A password or a link that cannot be used, with a message for the person."""


@dataclass(frozen=True, slots=True)
class Throttle:
    failures: int  # failed sign-ins of one email allowed within `window`
    window: timedelta


@dataclass(frozen=True, slots=True)
class Session:
    id: uuid.UUID
    user_id: uuid.UUID
    email: str
    name: str | None
    role: Role
    operator: bool
    organization_id: uuid.UUID
    organization_name: str
    suspended: bool
    livemode: bool
    csrf_token: str
    plan: str
    limit_overrides: dict[str, int]
    profile_id: uuid.UUID | None = None  # the sender profile acted as (`x-profile-id`)
    profile_name: str | None = None

    def principal(self, request_rates: dict[str, int]) -> Principal:
        """The principal the API would build for a key of this user, organization and mode, so
        the dashboard calls the services exactly as the API does (`key_id` is the session's).
        Acting as a profile, it is that key with `x-profile-id`."""
        principal = Principal(
            key_id=self.id,
            user_id=self.user_id,
            role=self.role,
            livemode=self.livemode,
            key_customer_id=self.organization_id,
            key_customer_kind="organization",
            organization_id=self.organization_id,
            customer_id=self.organization_id,
            plan=self.plan,
            limits=effective_limits(self.plan, self.limit_overrides, request_rates),
        )
        return principal.acting_as(self.profile_id) if self.profile_id else principal


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _session(row: Any) -> Session:
    return Session(
        id=row["id"],
        user_id=row["user_id"],
        email=row["email"],
        name=row["name"],
        role=Role(row["role"]),
        operator=row["operator"],
        organization_id=row["organization_id"],
        organization_name=row["organization_name"],
        suspended=row["suspended_at"] is not None,
        livemode=row["livemode"],
        csrf_token=row["csrf_token"],
        plan=row["plan"],
        limit_overrides=dict(row["limits"] or {}),
        profile_id=row["profile_id"],
        profile_name=row["profile_name"],
    )


async def lookup(db: Database, token: str, now: datetime) -> Session | None:
    """The live session of a cookie's token (its user still active), or None."""
    async with db.connection() as conn:
        row = await dashboard.session_by_token(conn, digest(token), now)
    return _session(row) if row is not None else None


async def sign_in(
    db: Database,
    email: str,
    password: str,
    *,
    now: datetime,
    ttl: timedelta,
    throttle: Throttle,
    previous_token: str | None = None,
) -> tuple[str, Session]:
    """A new session for the active user with this email and password (the oldest membership
    whose password matches, when one email belongs to several organizations). Its token is
    returned once, for the cookie."""
    return await _authenticate(
        db,
        email,
        password,
        now=now,
        ttl=ttl,
        throttle=throttle,
        previous_token=previous_token,
        only_user=None,
        livemode=True,
    )


async def switch_organization(
    db: Database,
    session: Session,
    user_id: uuid.UUID,
    password: str,
    *,
    now: datetime,
    ttl: timedelta,
    throttle: Throttle,
    previous_token: str | None,
) -> tuple[str, Session]:
    """A new session as another membership of the session's email (`user_id`), in the same
    mode. Each membership is its own account with its own password, so switching signs in
    again with that membership's password (failures count in the email's sign-in throttle);
    the session presented is replaced, as at every sign-in."""
    return await _authenticate(
        db,
        session.email,
        password,
        now=now,
        ttl=ttl,
        throttle=throttle,
        previous_token=previous_token,
        only_user=user_id,
        livemode=session.livemode,
    )


@dataclass(frozen=True, slots=True)
class Membership:
    user_id: uuid.UUID
    organization_id: uuid.UUID
    organization_name: str
    role: str
    suspended: bool
    has_password: bool


async def memberships(db: Database, email: str) -> list[Membership]:
    """The organizations an email belongs to, oldest membership first."""
    async with db.connection() as conn:
        rows = await dashboard.memberships(conn, email)
    return [
        Membership(
            user_id=r["user_id"],
            organization_id=r["organization_id"],
            organization_name=r["organization_name"],
            role=r["role"],
            suspended=r["suspended_at"] is not None,
            has_password=r["has_password"],
        )
        for r in rows
    ]


async def _authenticate(
    db: Database,
    email: str,
    password: str,
    *,
    now: datetime,
    ttl: timedelta,
    throttle: Throttle,
    previous_token: str | None,
    only_user: uuid.UUID | None,
    livemode: bool,
) -> tuple[str, Session]:
    key = email.strip().lower()
    async with db.connection() as conn:
        failures = await dashboard.recent_failures(conn, key, now - throttle.window)
        candidates = await dashboard.active_users_by_email(conn, key)
    if only_user is not None:
        candidates = [c for c in candidates if c["id"] == only_user]
    if len(failures) >= throttle.failures:
        wait = failures[-throttle.failures] + throttle.window - now
        raise SignInRefused(
            "Too many failed sign-ins for this email; try again later",
            retry_after_s=max(1, int(wait.total_seconds()) + 1),
        )
    user = None
    for candidate in candidates or [None]:
        stored = candidate["password_hash"] if candidate is not None else None
        if await passwords.verify_password(stored, password) and candidate is not None:
            user = candidate
            break
    async with db.transaction() as conn:
        if user is None:
            await dashboard.record_failure(conn, key, now, now - throttle.window)
        else:
            await dashboard.forget_failures(conn, key)
            opened = await _open_session(
                conn, user["id"], now=now, ttl=ttl, livemode=livemode, previous_token=previous_token
            )
    if user is None:
        raise SignInRefused("Wrong email or password" if only_user is None else "Wrong password")
    return opened


async def _open_session(
    conn: Connection,
    user_id: uuid.UUID,
    *,
    now: datetime,
    ttl: timedelta,
    livemode: bool,
    previous_token: str | None,
) -> tuple[str, Session]:
    """A new session of `user_id` (the one presented, `previous_token`, ends): its token, once."""
    if previous_token:
        await dashboard.delete_session(conn, digest(previous_token))
    await dashboard.delete_expired_sessions(conn, now)
    token = secrets.token_urlsafe(32)
    await dashboard.insert_session(
        conn,
        token_hash=digest(token),
        user_id=user_id,
        csrf_token=secrets.token_urlsafe(32),
        livemode=livemode,
        now=now,
        expires_at=now + ttl,
    )
    await dashboard.stamp_login(conn, user_id, now)
    row = await dashboard.session_by_token(conn, digest(token), now)
    return token, _session(row)


async def sign_out(db: Database, token: str) -> None:
    async with db.transaction() as conn:
        await dashboard.delete_session(conn, digest(token))


async def set_mode(db: Database, session: Session, livemode: bool) -> Session:
    async with db.transaction() as conn:
        await dashboard.set_session_mode(conn, session.id, livemode)
    return dataclasses.replace(session, livemode=livemode)


async def act_as_profile(db: Database, session: Session, profile_id: uuid.UUID | None) -> None:
    """Act as one of the organization's sender profiles (None: as the organization). The
    caller has checked the profile is the organization's; reads check it again."""
    async with db.transaction() as conn:
        await dashboard.set_session_profile(conn, session.id, profile_id)


async def accept_invitation(db: Database, token: str, password: str, *, now: datetime) -> Any:
    """Accept an invitation (`users.accept`, the CLI's path) and set the new member's password.
    `user_service.InvitationError` or `PasswordError` when it cannot be done."""
    problem = passwords.problem(password)
    if problem is not None:
        raise PasswordError(problem)
    password_hash = await passwords.hash_password(password)
    return await user_service.accept(db, token, now=now, password_hash=password_hash)


async def sign_in_accepted(
    db: Database, user_id: uuid.UUID, *, now: datetime, ttl: timedelta, previous_token: str | None
) -> tuple[str, Session]:
    """The session a member opens by accepting their invitation: the token proved the email and
    the password was just set, as a sign-in would prove it (in live mode, like a sign-in)."""
    async with db.transaction() as conn:
        return await _open_session(
            conn, user_id, now=now, ttl=ttl, livemode=True, previous_token=previous_token
        )


async def issue_password_link(
    db: Database, email: str, *, organization_id: uuid.UUID | None, now: datetime
) -> list[tuple[Any, str]]:
    """A password-set token (valid `PASSWORD_LINK_TTL`) for each active user with this email
    (in one organization, or all); each replaces that user's previous one. Empty when there is
    no such user (the reset page says the same either way)."""
    issued: list[tuple[Any, str]] = []
    async with db.transaction() as conn:
        for user in await dashboard.user_by_email_in(conn, organization_id, email.strip()):
            if user["status"] != "active":
                continue
            token = PASSWORD_TOKEN_PREFIX + secrets.token_urlsafe(32)
            await dashboard.set_password_token(
                conn, user["id"], digest(token), now + PASSWORD_LINK_TTL
            )
            issued.append((user, token))
    return issued


async def set_password_with_link(db: Database, token: str, password: str, *, now: datetime) -> Any:
    """Set the password of the link's user; the link is used up and every session of the user
    ends."""
    problem = passwords.problem(password)
    if problem is not None:
        raise PasswordError(problem)
    password_hash = await passwords.hash_password(password)
    async with db.transaction() as conn:
        user = await dashboard.user_by_password_token(conn, digest(token.strip()))
        expires_at = user["password_token_expires_at"] if user is not None else None
        if (
            user is None
            or user["status"] != "active"
            or user["removed_at"] is not None
            or expires_at is None
            or expires_at <= now
        ):
            raise PasswordError("This link is unknown, used or expired; ask for a new one")
        await dashboard.set_password(conn, user["id"], password_hash)
        await dashboard.delete_sessions_of_user(conn, user["id"])
    return user


async def set_operator(
    db: Database, email: str, *, organization_id: uuid.UUID | None, operator: bool
) -> Any:
    """Grant or revoke the server-level operator role. `PasswordError` is not used here; a
    `LookupError` names why no single user matches."""
    async with db.transaction() as conn:
        rows = await dashboard.user_by_email_in(conn, organization_id, email.strip())
        if not rows:
            raise LookupError(f"no user {email}")
        if len(rows) > 1:
            organizations = ", ".join(str(r["organization_id"]) for r in rows)
            raise LookupError(
                f"{email} belongs to several organizations ({organizations}); "
                "name one with --organization"
            )
        await dashboard.set_operator(conn, rows[0]["id"], operator)
        # Sessions carry the flag from the database on every request: nothing else to drop.
        return rows[0]


async def list_operators(db: Database) -> list[Any]:
    async with db.connection() as conn:
        return await dashboard.operators(conn)


async def owner_needs_password(db: Database, organization_id: uuid.UUID) -> Any:
    """The organization's owner when they have no password yet, else None."""
    async with db.connection() as conn:
        owner = await users.get_owner(conn, organization_id)
        if owner is None:
            return None
        rows = await dashboard.user_by_email_in(conn, organization_id, owner["email"])
    return owner if rows and rows[0]["password_hash"] is None else None
