"""Customer URLs in their normalised form, and each organization's callback signing secret.

* `webhooks.endpoint_url` and `customers.review_webhook_url` are rewritten with
  `sentd.outbound.urls.normalize_url` (IDNA host, percent-encoded path and query). A URL that
  has no normalised form is left as it is and logged: its deliveries fail, recorded, as before.
* `customers.callback_signing_secret` (`whsec_…`): what signs an organization's
  profile-completion callbacks; every existing and new row gets its own random secret.
* `customers.review_callback_id`: one id per review decision, the callback's
  `x-webhook-event-id` (the same on every retry of it).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

import logging

import sqlalchemy as sa
from alembic import op

from sentd.outbound.urls import InvalidUrl, normalize_url

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

_NEW_SECRET = (
    "'whsec_' || encode(decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, "
    "'-', ''), 'hex'), 'base64')"
)


def _normalise(table: str, column: str) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL"))
    for row_id, url in rows.fetchall():
        try:
            normalised = normalize_url(url)
        except InvalidUrl as exc:
            log.warning("%s %s: %s %r kept as it is: %s", table, row_id, column, url, exc)
            continue
        if normalised != url:
            bind.execute(
                sa.text(f"UPDATE {table} SET {column} = :url WHERE id = :id"),
                {"url": normalised, "id": row_id},
            )


def upgrade() -> None:
    _normalise("webhooks", "endpoint_url")
    _normalise("customers", "review_webhook_url")
    op.execute(
        f"ALTER TABLE customers ADD COLUMN callback_signing_secret text NOT NULL "
        f"DEFAULT ({_NEW_SECRET}), ADD COLUMN review_callback_id uuid"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE customers DROP COLUMN callback_signing_secret, DROP COLUMN review_callback_id"
    )
