"""Headers that keep browsers from misreading sentd's responses.

Every response: `X-Content-Type-Options: nosniff` (a JSON body is never run as script or
styled as a page). HTML pages (`/errors`, `/docs`, `/dashboard`): `X-Frame-Options: DENY` and a
Content-Security-Policy that allows only what the page itself needs and forbids framing (the
dashboard's pages also `Referrer-Policy: no-referrer`).
"""

from __future__ import annotations

NOSNIFF = ("X-Content-Type-Options", "nosniff")

_COMMON = "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The error pages: one inline stylesheet, nothing else.
PAGE_POLICY = f"default-src 'none'; style-src 'unsafe-inline'; {_COMMON}"
# Swagger UI: its script, stylesheet and icon are served by sentd (/docs/assets), it starts
# with an inline script, and it fetches /openapi.json from this server. Nothing else, anywhere.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; " + _COMMON
)


# The dashboard: its own stylesheet and script only, forms posted to itself, never framed.
DASHBOARD_POLICY = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def html_headers(path: str) -> dict[str, str]:
    if path == "/dashboard" or path.startswith("/dashboard/"):
        # Invitation and password links carry tokens: never send them on as a Referer.
        return {
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": DASHBOARD_POLICY,
            "Referrer-Policy": "no-referrer",
        }
    policy = DOCS_POLICY if path == "/docs" or path.startswith("/docs/") else PAGE_POLICY
    return {"X-Frame-Options": "DENY", "Content-Security-Policy": policy}
