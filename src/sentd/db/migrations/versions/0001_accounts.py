"""Accounts: customers (organizations and profiles), users, API keys, balances and the ledger.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE customers (
            id              uuid PRIMARY KEY,
            kind            text NOT NULL CHECK (kind IN ('organization', 'profile')),
            organization_id uuid REFERENCES customers (id),
            name            text NOT NULL,
            email           text,
            icon            text,
            description     text,
            short_name      text,
            status          text,
            settings        jsonb NOT NULL DEFAULT '{}'::jsonb,
            created_at      timestamptz NOT NULL DEFAULT now(),
            updated_at      timestamptz NOT NULL DEFAULT now(),
            deleted_at      timestamptz,
            CHECK ((kind = 'organization') = (organization_id IS NULL))
        );
        CREATE INDEX customers_organization_idx ON customers (organization_id)
            WHERE organization_id IS NOT NULL;

        CREATE TABLE users (
            id              uuid PRIMARY KEY,
            organization_id uuid NOT NULL REFERENCES customers (id),
            email           text NOT NULL,
            name            text,
            role            text NOT NULL
                            CHECK (role IN ('owner', 'admin', 'developer', 'billing')),
            status          text NOT NULL DEFAULT 'active',
            created_at      timestamptz NOT NULL DEFAULT now(),
            updated_at      timestamptz NOT NULL DEFAULT now(),
            invited_at      timestamptz,
            last_login_at   timestamptz
        );
        CREATE UNIQUE INDEX users_organization_email_key ON users (organization_id, lower(email));

        CREATE TABLE api_keys (
            id           uuid PRIMARY KEY,
            customer_id  uuid NOT NULL REFERENCES customers (id),
            user_id      uuid NOT NULL REFERENCES users (id),
            livemode     boolean NOT NULL,
            name         text,
            prefix       text NOT NULL,
            key_hash     bytea NOT NULL UNIQUE,
            created_at   timestamptz NOT NULL DEFAULT now(),
            expires_at   timestamptz,
            revoked_at   timestamptz,
            last_used_at timestamptz
        );
        CREATE INDEX api_keys_customer_idx ON api_keys (customer_id);

        CREATE TABLE balances (
            customer_id   uuid NOT NULL REFERENCES customers (id),
            livemode      boolean NOT NULL,
            amount_micros bigint NOT NULL DEFAULT 0 CHECK (amount_micros >= 0),
            currency      text NOT NULL,
            updated_at    timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (customer_id, livemode)
        );

        CREATE TABLE ledger_entries (
            id                  uuid PRIMARY KEY,
            customer_id         uuid NOT NULL REFERENCES customers (id),
            livemode            boolean NOT NULL,
            amount_micros       bigint NOT NULL,
            balance_after_micros bigint NOT NULL,
            reason              text NOT NULL,
            reference           text,
            created_at          timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ledger_entries_customer_idx
            ON ledger_entries (customer_id, livemode, created_at);

        CREATE TABLE worker_heartbeats (
            loop_name   text NOT NULL,
            process     text NOT NULL,
            last_beat_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (loop_name, process)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE worker_heartbeats;
        DROP TABLE ledger_entries;
        DROP TABLE balances;
        DROP TABLE api_keys;
        DROP TABLE users;
        DROP TABLE customers;
        """
    )
