"""A response decided before the route ran (an idempotent replay) or stored while it ran."""

from __future__ import annotations

from starlette.responses import Response


class PrebuiltResponse(Exception):
    """Raised with a finished response; the exception handler sends it unchanged."""

    def __init__(self, response: Response) -> None:
        super().__init__("prebuilt response")
        self.response = response
