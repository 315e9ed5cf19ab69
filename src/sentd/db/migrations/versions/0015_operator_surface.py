"""The operator's surface: organization suspension; invitation tokens kept as digests only.

`customers.suspended_at` marks a suspended organization (its profiles follow it); nothing else
changes while it is set. The plaintext invitation token goes: a pending invitation whose digest
is missing gets the SHA-256 of its plaintext first, so every invitation pending before this
migration can still be accepted with the token its invitee holds (see docs/users.md).
Downgrading brings back an empty plaintext column; pending tokens stay acceptable.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-02
"""

from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE customers ADD COLUMN suspended_at timestamptz;

        UPDATE users SET invitation_token_hash = sha256(convert_to(invitation_token, 'UTF8'))
        WHERE invitation_token IS NOT NULL AND invitation_token_hash IS NULL;
        ALTER TABLE users DROP COLUMN invitation_token;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE users ADD COLUMN invitation_token text;
        ALTER TABLE customers DROP COLUMN suspended_at;
        """
    )
