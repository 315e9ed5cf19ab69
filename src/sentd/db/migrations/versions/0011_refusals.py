"""`sentd_refuse(code)`: how a statement sent together with COMMIT refuses the operation.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION sentd_refuse(code text) RETURNS integer
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            RAISE EXCEPTION USING ERRCODE = 'SD001', MESSAGE = code;
        END
        $$;
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION sentd_refuse(text)")
