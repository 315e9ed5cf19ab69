"""sentd: a self-hosted server for the Sent API v3."""

__version__ = "0.1.0"
