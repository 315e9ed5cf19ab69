"""`sentd retention run`: a dry run counts and deletes nothing; a run deletes."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.cli.support import cli_json, run_cli

OLD_EVENT = (
    "INSERT INTO events (id, customer_id, livemode, event_type, envelope, created_at) "
    "VALUES (gen_random_uuid(), %s, false, 'contact.opt_out', '{}', now() - interval '90 days')"
)


def events(db_url: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT count(*) FROM events").fetchone()
    assert row is not None
    return int(row[0])


def test_dry_run_reports_and_run_deletes(
    env: dict[str, str], demo: dict[str, Any], db_url: str
) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        for _ in range(3):
            conn.execute(OLD_EVENT, (demo["organization_id"],))
    before = events(db_url)

    dry = cli_json(env, "retention", "run", "--dry-run", "--json")
    assert dry == {"dry_run": True, "rows": dry["rows"]}
    assert dry["rows"]["events"] == 3
    assert events(db_url) == before

    kept = run_cli(env | {"SENTD_RETENTION_EVENTS_DAYS": "0"}, "retention", "run")
    assert kept.returncode == 0, kept.stderr
    assert "\nevents " not in kept.stdout and events(db_url) == before

    done = run_cli(env, "retention", "run")
    assert done.returncode == 0, done.stderr
    assert "events               deleted          3 (older than 30 days)" in done.stdout
    assert events(db_url) == before - 3
