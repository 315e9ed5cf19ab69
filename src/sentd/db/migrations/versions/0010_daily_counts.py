"""Messages sent per organization, mode and day: the daily quota's counter.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE daily_message_counts (
            organization_id uuid NOT NULL REFERENCES customers (id),
            livemode        boolean NOT NULL,
            day             date NOT NULL,
            count           bigint NOT NULL,
            PRIMARY KEY (organization_id, livemode, day)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE daily_message_counts")
