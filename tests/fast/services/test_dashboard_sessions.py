"""services.dashboard_sessions on a connection: passwords (argon2id, set through single-use
links), sessions (a new one at every sign-in, ended by a new password), the per-email sign-in
throttle, and accepting an invitation with a password.

The services open their own connections and transactions: `OneConnection` makes each the test's
connection. Argon2 at its production cost takes about a third of a second per hash or check on
this machine, so every test but the first runs with a cheap one (`cheap_hashing`: same algorithm,
lowest cost); the first checks that the real one is what stores a password.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher

from sentd.auth import passwords
from sentd.services import dashboard_sessions as sessions
from sentd.services import users
from tests.fast.factories import OneConnection, Org, invite, make_org

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
TTL = timedelta(hours=8)
THROTTLE = sessions.Throttle(failures=3, window=timedelta(minutes=10))
PASSWORD = "correct horse battery"


@pytest.fixture
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Argon2id at its lowest cost, for new hashes and for the decoy an unknown email checks."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(passwords, "_HASHER", cheap)
    monkeypatch.setattr(passwords, "_DECOY", cheap.hash("decoy"))
    yield


async def owner_email(conn: Any, org: Org) -> str:
    email: str = await conn.fetchval("SELECT email FROM users WHERE id = $1", org.owner_id)
    return email


async def set_password(db: OneConnection, email: str, password: str = PASSWORD) -> None:
    [(_, token)] = await sessions.issue_password_link(db, email, organization_id=None, now=NOW)
    await sessions.set_password_with_link(db, token, password, now=NOW)


async def sign_in(db: OneConnection, email: str, password: str = PASSWORD, **kw: Any) -> Any:
    kw.setdefault("now", NOW)
    return await sessions.sign_in(db, email, password, ttl=TTL, throttle=THROTTLE, **kw)


async def test_a_password_is_stored_as_an_argon2id_hash(db_conn: Any) -> None:
    org, db = await make_org(db_conn), OneConnection(db_conn)
    email = await owner_email(db_conn, org)
    assert (await sessions.owner_needs_password(db, org.id))["id"] == org.owner_id
    await set_password(db, email)
    stored = await db_conn.fetchval("SELECT password_hash FROM users WHERE id = $1", org.owner_id)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert await passwords.verify_password(stored, PASSWORD)
    assert await sessions.owner_needs_password(db, org.id) is None


async def test_a_password_link_works_once_and_not_after_its_term(
    db_conn: Any, cheap_hashing: None
) -> None:
    org, db = await make_org(db_conn), OneConnection(db_conn)
    email = await owner_email(db_conn, org)
    [(user, token)] = await sessions.issue_password_link(db, email, organization_id=None, now=NOW)
    assert user["id"] == org.owner_id and token.startswith("pwd_")
    with pytest.raises(sessions.PasswordError):  # too short: the link stays usable
        await sessions.set_password_with_link(db, token, "short", now=NOW)
    await sessions.set_password_with_link(db, token, PASSWORD, now=NOW)
    with pytest.raises(sessions.PasswordError, match="unknown, used or expired"):
        await sessions.set_password_with_link(db, token, "another password", now=NOW)
    # A newer link replaces an older one; a link ends with its term.
    [(_, old)] = await sessions.issue_password_link(db, email, organization_id=None, now=NOW)
    [(_, new)] = await sessions.issue_password_link(db, email, organization_id=org.id, now=NOW)
    with pytest.raises(sessions.PasswordError):
        await sessions.set_password_with_link(db, old, "another password", now=NOW)
    with pytest.raises(sessions.PasswordError):
        end = NOW + sessions.PASSWORD_LINK_TTL
        await sessions.set_password_with_link(db, new, "another password", now=end)
    assert (
        await sessions.issue_password_link(db, "nobody@example.com", organization_id=None, now=NOW)
        == []
    )


async def test_every_sign_in_rotates_the_session(db_conn: Any, cheap_hashing: None) -> None:
    org, db = await make_org(db_conn), OneConnection(db_conn)
    email = await owner_email(db_conn, org)
    await set_password(db, email)
    first, session = await sign_in(db, f"  {email.upper()} ")
    assert session.user_id == org.owner_id and session.organization_id == org.id
    assert session.livemode and session.role == "owner" and not session.operator
    assert (await sessions.lookup(db, first, NOW)) == session
    second, renewed = await sign_in(db, email, previous_token=first)
    assert second != first and renewed.id != session.id
    assert renewed.csrf_token != session.csrf_token
    assert await sessions.lookup(db, first, NOW) is None  # the cookie presented is gone
    assert (await sessions.lookup(db, second, NOW)) == renewed
    assert await sessions.lookup(db, second, NOW + TTL) is None  # and a session ends
    last_login = await db_conn.fetchval(
        "SELECT last_login_at FROM users WHERE id = $1", org.owner_id
    )
    assert last_login == NOW
    await sessions.sign_out(db, second)
    assert await sessions.lookup(db, second, NOW) is None


async def test_a_new_password_ends_every_session(db_conn: Any, cheap_hashing: None) -> None:
    org, db = await make_org(db_conn), OneConnection(db_conn)
    email = await owner_email(db_conn, org)
    await set_password(db, email)
    tokens = [(await sign_in(db, email))[0] for _ in range(2)]  # two browsers
    await set_password(db, email, "a new password")
    for token in tokens:
        assert await sessions.lookup(db, token, NOW) is None
    with pytest.raises(sessions.SignInRefused):
        await sign_in(db, email)
    await sign_in(db, email, "a new password")


async def test_failed_sign_ins_are_counted_per_email_within_the_window(
    db_conn: Any, cheap_hashing: None
) -> None:
    org, db = await make_org(db_conn), OneConnection(db_conn)
    email = await owner_email(db_conn, org)
    await set_password(db, email)

    async def failures() -> int:
        count: int = await db_conn.fetchval(
            "SELECT count(*) FROM dashboard_signin_failures WHERE email = $1", email.lower()
        )
        return count

    for minute in range(THROTTLE.failures):
        with pytest.raises(sessions.SignInRefused) as refused:
            await sign_in(db, email.upper(), "wrong password", now=NOW + timedelta(minutes=minute))
        assert refused.value.retry_after_s is None
    assert await failures() == THROTTLE.failures
    # Now even the right password is refused, until the oldest failure leaves the window.
    at = NOW + timedelta(minutes=5)
    with pytest.raises(sessions.SignInRefused) as refused:
        await sign_in(db, email, now=at)
    assert refused.value.retry_after_s == 5 * 60 + 1
    assert await failures() == THROTTLE.failures  # a refused attempt is not a new failure
    await sign_in(db, email, now=NOW + THROTTLE.window)
    assert await failures() == 0  # a success forgets them
    # An unknown email counts too, and is refused the same way. (Unique: the database is shared
    # with the HTTP tests, which commit failures of their own.)
    nobody = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    with pytest.raises(sessions.SignInRefused, match="Wrong email or password"):
        await sign_in(db, nobody)
    assert (
        await db_conn.fetchval(
            "SELECT count(*) FROM dashboard_signin_failures WHERE email = $1", nobody
        )
        == 1
    )


async def test_accepting_an_invitation_sets_the_password(db_conn: Any, cheap_hashing: None) -> None:
    org, db = await make_org(db_conn), OneConnection(db_conn)
    invitation = await invite(db_conn, org, "dev@example.com", "developer", now=NOW)
    with pytest.raises(sessions.PasswordError):
        await sessions.accept_invitation(db, invitation.token, "short", now=NOW)
    with pytest.raises(sessions.SignInRefused):  # not a member yet
        await sign_in(db, "dev@example.com")
    await sessions.accept_invitation(db, invitation.token, PASSWORD, now=NOW)
    _, session = await sign_in(db, "dev@example.com")
    assert session.role == "developer" and session.organization_id == org.id
    with pytest.raises(users.InvitationError):
        await sessions.accept_invitation(db, invitation.token, PASSWORD, now=NOW)


async def test_one_email_in_two_organizations_signs_in_by_password(
    db_conn: Any, cheap_hashing: None
) -> None:
    first, second, db = await make_org(db_conn), await make_org(db_conn), OneConnection(db_conn)
    email = await owner_email(db_conn, first)
    for org, password in ((first, "first password"), (second, "second password")):
        if org is second:
            invitation = await invite(db_conn, org, email, "admin", now=NOW)
            await sessions.accept_invitation(db, invitation.token, password, now=NOW)
            # One transaction's now() does not move: make this membership the newer one.
            await db_conn.execute(
                "UPDATE users SET created_at = created_at + interval '1 minute' WHERE id = $1",
                invitation.user["id"],
            )
        else:
            await set_password(db, email, password)
    assert [m.organization_id for m in await sessions.memberships(db, email)] == [
        first.id,
        second.id,
    ]
    _, in_second = await sign_in(db, email, "second password")
    assert in_second.organization_id == second.id and in_second.role == "admin"
    test_mode = await sessions.set_mode(db, in_second, False)
    token, switched = await sessions.switch_organization(
        db,
        test_mode,
        first.owner_id,
        "first password",
        now=NOW,
        ttl=TTL,
        throttle=THROTTLE,
        previous_token=None,
    )
    assert switched.organization_id == first.id and switched.livemode is False
    with pytest.raises(sessions.SignInRefused, match="Wrong password"):
        await sessions.switch_organization(
            db,
            switched,
            first.owner_id,
            "second password",  # another membership's password does not open this one
            now=NOW,
            ttl=TTL,
            throttle=THROTTLE,
            previous_token=token,
        )
