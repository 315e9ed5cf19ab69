"""The dashboard: users' passwords and the operator flag, sessions, password-set tokens and the
sign-in throttle.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- argon2id hash (PHC string); NULL until the user sets a password.
        ALTER TABLE users ADD COLUMN password_hash text;
        -- A server-level operator (`sentd users operator grant EMAIL`).
        ALTER TABLE users ADD COLUMN operator boolean NOT NULL DEFAULT false;
        -- A pending password-set link (invitation-free: reset, or the demo owner's first one):
        -- only its SHA-256 is kept.
        ALTER TABLE users ADD COLUMN password_token_hash bytea;
        ALTER TABLE users ADD COLUMN password_token_expires_at timestamptz;
        CREATE UNIQUE INDEX users_password_token_idx ON users (password_token_hash)
            WHERE password_token_hash IS NOT NULL;

        CREATE TABLE dashboard_sessions (
            id           uuid PRIMARY KEY,
            -- SHA-256 of the cookie's random token; the token itself is never stored.
            token_hash   bytea NOT NULL UNIQUE,
            user_id      uuid NOT NULL REFERENCES users (id),
            -- The value every form of this session carries (CSRF).
            csrf_token   text NOT NULL,
            livemode     boolean NOT NULL DEFAULT true,
            created_at   timestamptz NOT NULL,
            expires_at   timestamptz NOT NULL
        );
        CREATE INDEX dashboard_sessions_user_idx ON dashboard_sessions (user_id);
        CREATE INDEX dashboard_sessions_expiry_idx ON dashboard_sessions (expires_at);

        -- Failed sign-ins per email (lower case), for the per-account throttle.
        CREATE TABLE dashboard_signin_failures (
            email      text NOT NULL,
            failed_at  timestamptz NOT NULL
        );
        CREATE INDEX dashboard_signin_failures_idx ON dashboard_signin_failures (email, failed_at);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE dashboard_signin_failures;
        DROP TABLE dashboard_sessions;
        DROP INDEX users_password_token_idx;
        ALTER TABLE users DROP COLUMN password_token_expires_at;
        ALTER TABLE users DROP COLUMN password_token_hash;
        ALTER TABLE users DROP COLUMN operator;
        ALTER TABLE users DROP COLUMN password_hash;
        """
    )
