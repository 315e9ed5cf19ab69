"""The operator's bearer tokens (`SENTD_STATUS_TOKEN`, `SENTD_METRICS_TOKEN`): checked in constant
time, and never configured means never accepted."""

from __future__ import annotations

import hmac

from starlette.requests import Request


def presents(request: Request, token: str | None) -> bool:
    """Whether the request carries `Authorization: Bearer <token>` for a configured token."""
    if not token:
        return False
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        value.strip().encode(), token.encode()
    )
