"""Migration 0013: sending numbers set before it are claimed, the oldest customer keeps a number
several set, each duplicate is reported, and nothing is deleted."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from sentd.db.migrate import upgrade
from tests.databases import create_database, drop_database

BEFORE = "0011"  # the revision before sending_numbers existed
SHARED, OWN, GONE = "+16505550101", "+16505550102", "+16505550103"


@pytest.fixture
def old_db(admin_url: str) -> Iterator[str]:
    url = create_database(admin_url, migrate=False)
    upgrade(url, BEFORE)
    yield url
    drop_database(admin_url, url)


def add_customer(
    conn: psycopg.Connection,
    created_at: datetime,
    *,
    sms: str | None = None,
    whatsapp: str | None = None,
    deleted: bool = False,
) -> uuid.UUID:
    customer_id = uuid.uuid4()
    conn.execute(
        "INSERT INTO customers (id, kind, name, created_at, updated_at, sending_phone_number, "
        "whatsapp_phone_number, deleted_at) VALUES (%s, 'organization', 'Org', %s, %s, %s, %s, %s)",
        (customer_id, created_at, created_at, sms, whatsapp, created_at if deleted else None),
    )
    return customer_id


def test_duplicates_are_reported_and_kept(old_db: str, caplog: pytest.LogCaptureFixture) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    with psycopg.connect(old_db, autocommit=True) as conn:
        oldest = add_customer(conn, t0, sms=SHARED, whatsapp=SHARED)
        second = add_customer(conn, t0 + timedelta(days=1), whatsapp=SHARED)
        third = add_customer(conn, t0 + timedelta(days=2), sms=SHARED, whatsapp=OWN)
        gone = add_customer(conn, t0 + timedelta(days=3), sms=GONE, deleted=True)
    with caplog.at_level(logging.WARNING, logger="sentd.migrations"):
        upgrade(old_db)
    with psycopg.connect(old_db) as conn:
        claims = dict(conn.execute("SELECT phone_number, customer_id FROM sending_numbers"))
        kept = conn.execute(
            "SELECT id, sending_phone_number, whatsapp_phone_number FROM customers"
        ).fetchall()
    assert claims == {SHARED: oldest, OWN: third}  # a deleted customer claims nothing
    assert sorted(kept, key=str) == sorted(
        [
            (oldest, SHARED, SHARED),
            (second, None, SHARED),
            (third, SHARED, OWN),
            (gone, GONE, None),
        ],
        key=str,
    )  # nothing deleted or changed
    [report] = [r.getMessage() for r in caplog.records if r.name == "sentd.migrations"]
    assert SHARED in report and str(oldest) in report
    assert f"{second}, {third}" in report and OWN not in report


def test_a_clean_database_reports_nothing(old_db: str, caplog: pytest.LogCaptureFixture) -> None:
    with psycopg.connect(old_db, autocommit=True) as conn:
        add_customer(conn, datetime(2026, 1, 1, tzinfo=UTC), sms=OWN)
    with caplog.at_level(logging.WARNING, logger="sentd.migrations"):
        upgrade(old_db)
    assert not [r for r in caplog.records if r.name == "sentd.migrations"]
