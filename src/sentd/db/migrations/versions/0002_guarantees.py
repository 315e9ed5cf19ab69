"""Request guarantees: idempotency records, system flags, plans and limit overrides.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE idempotency_keys (
            customer_id         uuid NOT NULL REFERENCES customers (id),
            livemode            boolean NOT NULL,
            key                 text NOT NULL,
            method              text NOT NULL,
            path                text NOT NULL,
            state               text NOT NULL CHECK (state IN ('in_flight', 'completed')),
            owner_request_id    text NOT NULL,
            lease_until         timestamptz NOT NULL,
            response_status     integer,
            response_headers    jsonb,
            response_body       bytea,
            created_at          timestamptz NOT NULL,
            expires_at          timestamptz NOT NULL,
            PRIMARY KEY (customer_id, livemode, key)
        );
        CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);

        CREATE TABLE system_flags (
            name       text PRIMARY KEY,
            value      jsonb NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        );

        ALTER TABLE customers
            ADD COLUMN plan   text NOT NULL DEFAULT 'starter',
            ADD COLUMN limits jsonb NOT NULL DEFAULT '{}'::jsonb;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE customers DROP COLUMN limits, DROP COLUMN plan;
        DROP TABLE system_flags;
        DROP TABLE idempotency_keys;
        """
    )
