"""Migration 0012: URLs stored before are rewritten in their normal form, and every organization
gets its own callback signing secret."""

from __future__ import annotations

import uuid

import psycopg

from sentd.db.migrate import upgrade
from tests.databases import create_database, drop_database


def test_stored_urls_are_normalised_and_secrets_created(admin_url: str) -> None:
    url = create_database(admin_url, migrate=False)
    try:
        upgrade(url, "0011")
        orgs = [uuid.uuid4(), uuid.uuid4()]
        profile = uuid.uuid4()
        hooks = {
            uuid.uuid4(): "https://пример.рф/вебхук?тема=опт аут",
            uuid.uuid4(): "https://example.com/already",
            uuid.uuid4(): "https://exa mple.com/x",  # no normal form: kept as it was
        }
        with psycopg.connect(url, autocommit=True) as conn:
            for org in orgs:
                conn.execute(
                    "INSERT INTO customers (id, kind, name) VALUES (%s, 'organization', 'O')",
                    (org,),
                )
            conn.execute(
                "INSERT INTO customers (id, kind, organization_id, name, status, "
                "review_webhook_url) VALUES (%s, 'profile', %s, 'P', 'approved', %s)",
                (profile, orgs[0], "http://Bücher.de/колбэк"),
            )
            for hook_id, endpoint in hooks.items():
                conn.execute(
                    "INSERT INTO webhooks (id, customer_id, livemode, display_name, endpoint_url,"
                    " event_types, signing_secret, retry_count, timeout_seconds) "
                    "VALUES (%s, %s, true, 'H', %s, '{contact}', 'whsec_x', 3, 30)",
                    (hook_id, orgs[0], endpoint),
                )
        upgrade(url)
        with psycopg.connect(url) as conn:
            stored = dict(conn.execute("SELECT id, endpoint_url FROM webhooks").fetchall())
            callback = conn.execute(
                "SELECT review_webhook_url FROM customers WHERE id = %s", (profile,)
            ).fetchone()
            secrets = [
                row[0]
                for row in conn.execute(
                    "SELECT callback_signing_secret FROM customers WHERE id = ANY(%s)", (orgs,)
                ).fetchall()
            ]
        assert stored == {
            hook_id: expected
            for hook_id, expected in zip(
                hooks,
                [
                    "https://xn--e1afmkfd.xn--p1ai/%D0%B2%D0%B5%D0%B1%D1%85%D1%83%D0%BA"
                    "?%D1%82%D0%B5%D0%BC%D0%B0=%D0%BE%D0%BF%D1%82%20%D0%B0%D1%83%D1%82",
                    "https://example.com/already",
                    "https://exa mple.com/x",
                ],
                strict=True,
            )
        }
        assert callback == ("http://xn--bcher-kva.de/%D0%BA%D0%BE%D0%BB%D0%B1%D1%8D%D0%BA",)
        assert len(set(secrets)) == 2 and all(s.startswith("whsec_") for s in secrets)
        assert all(len(s) == len("whsec_") + 44 for s in secrets)  # 32 random bytes, base64
    finally:
        drop_database(admin_url, url)
