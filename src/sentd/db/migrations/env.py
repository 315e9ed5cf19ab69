"""Alembic environment: raw-SQL migrations over psycopg, one process at a time."""

from __future__ import annotations

import psycopg
from alembic import context
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

MIGRATION_LOCK_KEY = 0x5E47D  # pg_advisory_lock key: concurrent `sentd migrate` runs queue up

dsn: str = context.config.attributes["dsn"]
engine = create_engine(
    "postgresql+psycopg://", creator=lambda: psycopg.connect(dsn), poolclass=NullPool
)
with engine.connect() as connection:
    connection.execute(text(f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
    connection.commit()
    try:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    finally:
        connection.execute(text(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
        connection.commit()
engine.dispose()
