"""Messages (each one is also its own dispatch job) and their status history.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE messages (
            id                  uuid PRIMARY KEY,
            customer_id         uuid NOT NULL REFERENCES customers (id),
            livemode            boolean NOT NULL,
            contact_id          uuid NOT NULL REFERENCES contacts (id),
            direction           text NOT NULL CHECK (direction IN ('OUTBOUND', 'INBOUND')),
            channel             text NOT NULL,
            status              text NOT NULL,
            phone_e164          text NOT NULL,
            phone_international text NOT NULL,
            region_code         text,
            template_id         uuid,
            template_name       text,
            template_category   text,
            template_parameters jsonb,
            body                jsonb NOT NULL,      -- the rendered message (MessageBody)
            media_urls          text[],
            subject             text,
            price_micros        bigint NOT NULL DEFAULT 0,
            charges             jsonb NOT NULL DEFAULT '[]'::jsonb,  -- [{customer_id, micros}]
            refunded            boolean NOT NULL DEFAULT false,
            provider            text,
            provider_message_id text,
            from_number         text,
            attempts            integer NOT NULL DEFAULT 0,
            due_at              timestamptz,         -- when the dispatcher may take it
            lease_until         timestamptz,         -- a dispatcher's claim (also the retry time)
            simulated_next_at   timestamptz,         -- the simulator's next lifecycle step
            scheduled_at        timestamptz,
            reason_code         text,
            reason              text,
            created_at          timestamptz NOT NULL,
            updated_at          timestamptz NOT NULL
        );
        CREATE INDEX messages_dispatch_idx ON messages (due_at)
            WHERE status IN ('QUEUED', 'ACCEPTED');
        CREATE INDEX messages_scheduled_idx ON messages (scheduled_at) WHERE status = 'SCHEDULED';
        CREATE INDEX messages_simulated_idx ON messages (simulated_next_at)
            WHERE simulated_next_at IS NOT NULL;
        CREATE UNIQUE INDEX messages_provider_idx ON messages (provider, provider_message_id)
            WHERE provider_message_id IS NOT NULL;
        CREATE INDEX messages_customer_idx ON messages (customer_id, livemode, created_at, id);
        CREATE INDEX messages_contact_idx ON messages (contact_id, created_at, id);

        CREATE TABLE message_events (
            id           bigserial PRIMARY KEY,
            message_id   uuid NOT NULL REFERENCES messages (id),
            status       text NOT NULL,
            description  text NOT NULL,
            reason_code  text,
            reason       text,
            occurred_at  timestamptz NOT NULL
        );
        CREATE INDEX message_events_message_idx ON message_events (message_id, id);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE message_events; DROP TABLE messages;")
