"""Sender-profile review: when the decision is due, and the callback to the customer.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE customers
            ADD COLUMN review_due_at             timestamptz,
            ADD COLUMN review_callback_due_at    timestamptz,
            ADD COLUMN review_callback_attempts  integer NOT NULL DEFAULT 0;
        CREATE INDEX customers_review_due_idx ON customers (review_due_at)
            WHERE review_due_at IS NOT NULL;
        CREATE INDEX customers_review_callback_due_idx ON customers (review_callback_due_at)
            WHERE review_callback_due_at IS NOT NULL;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX customers_review_callback_due_idx;
        DROP INDEX customers_review_due_idx;
        ALTER TABLE customers DROP COLUMN review_callback_attempts,
            DROP COLUMN review_callback_due_at, DROP COLUMN review_due_at;
        """
    )
