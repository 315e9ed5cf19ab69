"""Accounts API: sender-profile details, user invitations.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE customers
            ADD COLUMN billing_contact        jsonb,
            ADD COLUMN brand                  jsonb,
            ADD COLUMN payment_card           jsonb,  -- last four digits and expiry only
            ADD COLUMN whatsapp_account       jsonb,  -- waba_id, phone_number_id, access token
            ADD COLUMN sending_phone_number   text,
            ADD COLUMN whatsapp_phone_number  text,
            ADD COLUMN allow_number_change_during_onboarding boolean NOT NULL DEFAULT false,
            ADD COLUMN review_webhook_url     text,
            ADD COLUMN review_reason          text;

        ALTER TABLE users
            ADD COLUMN invitation_token_hash  bytea UNIQUE,
            -- The plaintext token, kept only while the invitation is pending (cleared on accept
            -- and on removal) so that `sentd users invitations` can list it; see docs/users.md.
            ADD COLUMN invitation_token       text,
            ADD COLUMN invitation_expires_at  timestamptz,
            ADD COLUMN removed_at             timestamptz;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE users DROP COLUMN removed_at, DROP COLUMN invitation_expires_at,
            DROP COLUMN invitation_token, DROP COLUMN invitation_token_hash;
        ALTER TABLE customers DROP COLUMN review_reason, DROP COLUMN review_webhook_url,
            DROP COLUMN allow_number_change_during_onboarding, DROP COLUMN whatsapp_phone_number,
            DROP COLUMN sending_phone_number, DROP COLUMN whatsapp_account,
            DROP COLUMN payment_card, DROP COLUMN brand, DROP COLUMN billing_contact;
        """
    )
