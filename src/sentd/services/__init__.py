"""Domain operations. Each runs in one transaction and knows nothing of HTTP."""
