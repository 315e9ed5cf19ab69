"""The web dashboard under /dashboard: server-rendered pages over the same services as the API
and the CLI (see docs/dashboard.md)."""
