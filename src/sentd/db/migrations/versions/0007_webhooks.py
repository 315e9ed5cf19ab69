"""Webhooks, the events they subscribe to, and delivery jobs with their attempts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE webhooks (
            id                          uuid PRIMARY KEY,
            customer_id                 uuid NOT NULL REFERENCES customers (id),
            livemode                    boolean NOT NULL,
            display_name                text NOT NULL,
            endpoint_url                text NOT NULL,
            event_types                 text[] NOT NULL,
            event_filters               jsonb,
            sender_profile              jsonb,   -- rules for the profiles' events
            signing_secret              text NOT NULL,
            is_active                   boolean NOT NULL DEFAULT true,
            disabled_reason             text,
            retry_count                 integer NOT NULL,
            timeout_seconds             integer NOT NULL,
            consecutive_failures        integer NOT NULL DEFAULT 0,
            last_delivery_attempt_at    timestamptz,
            last_successful_delivery_at timestamptz,
            created_at                  timestamptz NOT NULL DEFAULT now(),
            updated_at                  timestamptz,
            deleted_at                  timestamptz
        );
        CREATE INDEX webhooks_customer_idx ON webhooks (customer_id, livemode, created_at)
            WHERE deleted_at IS NULL;

        CREATE TABLE events (
            id          uuid PRIMARY KEY,
            customer_id uuid NOT NULL REFERENCES customers (id),
            livemode    boolean NOT NULL,
            event_type  text NOT NULL,      -- "message.delivered", "templates", "contact.opt_out"
            envelope    jsonb NOT NULL,     -- {field, event, timestamp, payload}
            created_at  timestamptz NOT NULL
        );
        CREATE INDEX events_customer_idx ON events (customer_id, livemode, created_at);

        CREATE TABLE webhook_deliveries (
            id                      uuid PRIMARY KEY,
            seq                     bigserial,
            webhook_id              uuid NOT NULL REFERENCES webhooks (id),
            event_id                uuid NOT NULL REFERENCES events (id),
            event_type              text NOT NULL,
            state                   text NOT NULL
                                    CHECK (state IN ('pending', 'retrying', 'delivered', 'failed')),
            attempts                integer NOT NULL DEFAULT 0,
            next_attempt_at         timestamptz NOT NULL,
            lease_until             timestamptz,
            http_status_code        integer,
            response_body           text,
            error_message           text,
            processing_started_at   timestamptz,
            processing_completed_at timestamptz,
            created_at              timestamptz NOT NULL,
            UNIQUE (webhook_id, event_id)
        );
        CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, seq)
            WHERE state IN ('pending', 'retrying');
        CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (webhook_id, seq);

        CREATE TABLE webhook_attempts (
            id            bigserial PRIMARY KEY,
            delivery_id   uuid NOT NULL REFERENCES webhook_deliveries (id),
            attempt       integer NOT NULL,
            started_at    timestamptz NOT NULL,
            finished_at   timestamptz NOT NULL,
            http_status   integer,
            response_body text,
            error         text
        );
        CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempt);
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE webhook_attempts; DROP TABLE webhook_deliveries; DROP TABLE events; "
        "DROP TABLE webhooks;"
    )
