"""Request guarantees that routes opt into: throttles, idempotency, limits."""
