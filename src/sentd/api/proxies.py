"""Which peers may tell sentd the client's address (`X-Forwarded-For`) and scheme.

uvicorn rewrites the request's client and scheme from forwarded headers when the peer is trusted.
sentd trusts no peer by default, loopback included: otherwise any local process (or a proxy
that passes the header through unchanged) could pick the address the auth throttle counts.
Behind a reverse proxy, name it in `SENTD_FORWARDED_ALLOW_IPS`.
"""

from __future__ import annotations

from typing import Any

from sentd.config import Settings


def uvicorn_proxy_options(settings: Settings) -> dict[str, Any]:
    """The `proxy_headers` / `forwarded_allow_ips` options of `uvicorn.run` / `uvicorn.Config`."""
    trusted = settings.forwarded_allow_ips.strip()
    if not trusted:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}
