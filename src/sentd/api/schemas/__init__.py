"""Request bodies, as the official SDKs send them."""
