"""Migration 0015: invitation tokens become digests only, pending invitations stay acceptable."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from sentd.config import Settings
from sentd.db.database import Database
from sentd.db.migrate import upgrade
from sentd.services import users as user_service
from tests import databases


@pytest.fixture
def db_url(admin_url: str) -> Iterator[str]:
    url = databases.create_database(admin_url, migrate=False)
    yield url
    databases.drop_database(admin_url, url)


def _accept(url: str, token: str) -> str:
    async def go() -> str:
        db = await Database.connect(url, Settings(db_pool_min_size=1))
        try:
            row = await user_service.accept(db, token, now=datetime.now(UTC))
            return str(row["status"])
        finally:
            await db.close()

    return asyncio.run(go())


def test_plaintext_tokens_are_digested_in_place_and_dropped(db_url: str) -> None:
    upgrade(db_url, "0011")
    org = uuid.uuid4()
    with_digest, without_digest = "inv_had-a-digest", "inv_plaintext-only"
    expires = datetime.now(UTC) + timedelta(days=3)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO customers (id, kind, name) VALUES (%s, 'organization', 'Old')", (org,)
        )
        for email, token, digest in (
            ("a@example.com", with_digest, hashlib.sha256(with_digest.encode()).digest()),
            ("b@example.com", without_digest, None),
        ):
            conn.execute(
                "INSERT INTO users (id, organization_id, email, role, status, invited_at, "
                "invitation_token, invitation_token_hash, invitation_expires_at) "
                "VALUES (%s, %s, %s, 'developer', 'invited', now(), %s, %s, %s)",
                (uuid.uuid4(), org, email, token, digest, expires),
            )

    upgrade(db_url)

    with psycopg.connect(db_url) as conn:
        columns = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'"
            )
        }
        digests = dict(conn.execute("SELECT email, invitation_token_hash FROM users").fetchall())
    assert "invitation_token" not in columns
    assert digests == {
        "a@example.com": hashlib.sha256(with_digest.encode()).digest(),
        "b@example.com": hashlib.sha256(without_digest.encode()).digest(),
    }
    # The tokens invitees already hold still work.
    assert _accept(db_url, with_digest) == "active"
    assert _accept(db_url, without_digest) == "active"
