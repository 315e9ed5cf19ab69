"""Contacts: one row per phone number a customer messages, in one mode.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE contacts (
            id                    uuid PRIMARY KEY,
            customer_id           uuid NOT NULL REFERENCES customers (id),
            livemode              boolean NOT NULL,
            phone_number          text NOT NULL,      -- as the customer gave it
            phone_e164            text NOT NULL,
            format_international  text NOT NULL,
            format_national       text NOT NULL,
            format_rfc            text NOT NULL,
            country_code          text NOT NULL,
            region_code           text,
            line_type             text NOT NULL,
            carrier_name          text,
            available_channels    text NOT NULL,      -- "sms,whatsapp"
            default_channel       text,
            opt_out               boolean NOT NULL DEFAULT false,
            opt_out_changed_at    timestamptz,
            created_at            timestamptz NOT NULL DEFAULT now(),
            updated_at            timestamptz NOT NULL DEFAULT now(),
            deleted_at            timestamptz
        );
        CREATE UNIQUE INDEX contacts_phone_key ON contacts (customer_id, livemode, phone_e164)
            WHERE deleted_at IS NULL;
        CREATE INDEX contacts_list_idx ON contacts (customer_id, livemode, created_at, id)
            WHERE deleted_at IS NULL;
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE contacts")
