"""The base URL of links sentd puts in responses (`doc_url`), never taken from an arbitrary
`Host` header: `SENTD_PUBLIC_URL` when set; else the request's `Host` when it is one of
`SENTD_PUBLIC_HOSTS`; else the address the request actually arrived on."""

from __future__ import annotations

from starlette.types import Scope

from sentd.config import Settings

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _host_header(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"host":
            return bytes(value).decode("latin-1").strip().lower()
    return None


def base_url(scope: Scope, settings: Settings) -> str:
    if settings.public_url:
        return settings.public_url.rstrip("/")
    scheme = "https" if scope.get("scheme") == "https" else "http"
    host = _host_header(scope)
    if host and host in {h.strip().lower() for h in settings.public_hosts}:
        return f"{scheme}://{host}"
    server = scope.get("server")
    if not server or server[1] is None:
        return f"{scheme}://localhost"
    address, port = server
    if ":" in address:
        address = f"[{address}]"
    if port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{address}"
    return f"{scheme}://{address}:{port}"
