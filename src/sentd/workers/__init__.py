"""Background loops: each claims its due work from the database on an interval."""
