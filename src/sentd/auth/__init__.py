"""API keys, principals, roles and the permission matrix."""
