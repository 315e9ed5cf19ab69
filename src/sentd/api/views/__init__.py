"""Response data: how a record reads on the wire."""
