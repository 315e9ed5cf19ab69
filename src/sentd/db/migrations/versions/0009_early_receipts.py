"""Receipts that arrive before the message they are about is known to be sent.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE early_receipts (
            id                  bigserial PRIMARY KEY,
            provider            text NOT NULL,
            provider_message_id text NOT NULL,
            status              text NOT NULL,
            reason_code         text,
            reason              text,
            received_at         timestamptz NOT NULL
        );
        CREATE INDEX early_receipts_message_idx ON early_receipts (provider, provider_message_id);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE early_receipts")
