"""Voice: numbers that carry calls, app-user tokens and their bindings, calls and recordings.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE voice_numbers (
            id                    uuid PRIMARY KEY,
            customer_id           uuid NOT NULL REFERENCES customers (id),
            livemode              boolean NOT NULL,
            number                text NOT NULL,
            status                text NOT NULL CHECK (status IN ('ACTIVE', 'INACTIVE')),
            default_for_app_calls boolean NOT NULL DEFAULT false,
            callback_url          text,
            callback_secret       text NOT NULL,
            provider              text NOT NULL,   -- simulator | twilio
            provider_ref          text,            -- the provider's id of the number
            created_at            timestamptz NOT NULL,
            updated_at            timestamptz NOT NULL,
            CHECK (status = 'ACTIVE' OR NOT default_for_app_calls)
        );
        -- A number carries one customer's calls per mode: inbound calls are routed by it.
        CREATE UNIQUE INDEX voice_numbers_number_idx ON voice_numbers (livemode, number);
        CREATE INDEX voice_numbers_customer_idx
            ON voice_numbers (customer_id, livemode, created_at);
        CREATE UNIQUE INDEX voice_numbers_one_default_idx ON voice_numbers (customer_id, livemode)
            WHERE default_for_app_calls;

        CREATE TABLE voice_tokens (
            digest      bytea PRIMARY KEY,           -- sha256 of a simulator token
            customer_id uuid NOT NULL REFERENCES customers (id),
            livemode    boolean NOT NULL,
            identity    text NOT NULL,
            number      text NOT NULL,
            expires_at  timestamptz NOT NULL
        );
        CREATE INDEX voice_tokens_expiry_idx ON voice_tokens (expires_at);

        CREATE TABLE voice_identities (
            customer_id uuid NOT NULL REFERENCES customers (id),
            livemode    boolean NOT NULL,
            identity    text NOT NULL,
            number      text NOT NULL,
            updated_at  timestamptz NOT NULL,
            PRIMARY KEY (customer_id, livemode, identity)
        );

        CREATE TABLE calls (
            id               uuid PRIMARY KEY,
            customer_id      uuid NOT NULL REFERENCES customers (id),
            organization_id  uuid NOT NULL,
            livemode         boolean NOT NULL,
            direction        text NOT NULL,
            status           text NOT NULL,
            from_kind        text NOT NULL,
            from_value       text,
            to_kind          text NOT NULL,
            to_value         text,
            number           text NOT NULL,
            conference       text,             -- the room a conference answer connected it to
            host_call_id     uuid REFERENCES calls (id),  -- a participant's conference call
            muted            boolean NOT NULL DEFAULT false,
            phone_leg        boolean NOT NULL DEFAULT true,
            recording        boolean NOT NULL DEFAULT false,
            record_started_at timestamptz,
            started_at       timestamptz NOT NULL,
            answered_at      timestamptz,
            ended_at         timestamptz,
            duration_seconds integer,
            price_micros     bigint,
            failure_reason   text,
            timeline         jsonb NOT NULL DEFAULT '[]',
            plan             jsonb NOT NULL DEFAULT '{}',  -- how the simulator plays it
            next_step_at     timestamptz,                  -- the engine's next move, if any
            lease_until      timestamptz,
            provider         text NOT NULL,
            provider_ref     text
        );
        CREATE INDEX calls_customer_idx ON calls (customer_id, livemode, started_at DESC, id);
        CREATE INDEX calls_due_idx ON calls (next_step_at) WHERE next_step_at IS NOT NULL;
        CREATE INDEX calls_room_idx ON calls (customer_id, livemode, conference)
            WHERE conference IS NOT NULL;
        CREATE UNIQUE INDEX calls_provider_idx ON calls (provider, provider_ref)
            WHERE provider_ref IS NOT NULL;

        CREATE TABLE call_recordings (
            id               uuid PRIMARY KEY,
            call_id          uuid NOT NULL REFERENCES calls (id),
            started_at       timestamptz NOT NULL,
            ended_at         timestamptz,
            duration_seconds integer,
            ready_at         timestamptz,       -- set when call.recording_ready is emitted
            media_url        text,              -- where the provider keeps it
            url_key          text NOT NULL,     -- signs its expiring download links
            provider_ref     text
        );
        CREATE INDEX call_recordings_call_idx ON call_recordings (call_id, started_at);
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE call_recordings; DROP TABLE calls; DROP TABLE voice_identities; "
        "DROP TABLE voice_tokens; DROP TABLE voice_numbers"
    )
