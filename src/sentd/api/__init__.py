"""HTTP: routing, request schemas, the envelope, authentication dependencies."""
