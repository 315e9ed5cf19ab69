"""Storage: the PostgreSQL pool, the embedded server, repositories and migrations."""
