"""The dashboard: a session may act as one of its organization's sender profiles (the API's
`x-profile-id`).

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-03
"""

from alembic import op

revision = "0020"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- NULL: the organization itself. Checked against the user's organization on every read.
        ALTER TABLE dashboard_sessions ADD COLUMN profile_id uuid REFERENCES customers (id)
            ON DELETE SET NULL;
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE dashboard_sessions DROP COLUMN profile_id")
