"""Render the error catalog as small, self-contained HTML pages."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from urllib.parse import quote

from sentd.errors.catalog import ErrorSpec

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;"
    "padding:0 1rem;line-height:1.5;color:#222}"
    "code{background:#f3f3f3;padding:0 .25rem}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left}"
)


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}</body>\n</html>\n"
    )


def render_error_page_html(spec: ErrorSpec) -> str:
    """Return an HTML page documenting a single error code."""
    steps = "".join(f"<li>{escape(step)}</li>\n" for step in spec.remediation)
    origin = "" if spec.in_catalog else "<p><em>sentd extension code.</em></p>\n"
    body = (
        f"<h1><code>{escape(spec.code)}</code></h1>\n"
        f"<p><strong>HTTP {spec.status}</strong> &middot; {escape(spec.title)}</p>\n"
        f"<p>Message: <code>{escape(spec.message)}</code></p>\n"
        f"{origin}"
        f"<h2>Cause</h2>\n<p>{escape(spec.cause)}</p>\n"
        f"<h2>Remediation</h2>\n<ol>\n{steps}</ol>\n"
        f"<p>Retryable: {'yes' if spec.retryable else 'no'}</p>\n"
        '<p><a href="/errors">&larr; All error codes</a></p>\n'
    )
    return _page(f"{spec.code}: {spec.message}", body)


def render_index_html(specs: Iterable[ErrorSpec]) -> str:
    """Return an HTML page with a table of all error codes."""
    rows = "".join(
        f'<tr><td><a href="/errors/{escape(quote(s.code, safe=""))}">'
        f"<code>{escape(s.code)}</code></a></td>"
        f"<td>{s.status}</td><td>{escape(s.title)}</td>"
        f"<td>{escape(s.message)}</td></tr>\n"
        for s in specs
    )
    body = (
        "<h1>sentd error codes</h1>\n"
        "<table>\n<thead><tr><th>Code</th><th>Status</th><th>Category</th>"
        "<th>Message</th></tr></thead>\n"
        f"<tbody>\n{rows}</tbody>\n</table>\n"
    )
    return _page("sentd error codes", body)
