"""Customer URLs in one canonical form, computed when they are saved.

`normalize_url` returns the absolute http(s) URL with its host in IDNA (ASCII, lower case) and
its path, query and fragment percent-encoded as UTF-8. Escapes already present are kept (so
normalising twice changes nothing); a `%` that starts no escape becomes `%25`. The stored and
displayed URL is this one, and it is exactly what is requested.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, urlsplit, urlunsplit

import idna

_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Characters left as they are: unreserved, sub-delims, ':' '@' '/' (RFC 3986) and escapes.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = _PATH_SAFE + "?"
MAX_LENGTH = 2048
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# A JSON Schema pattern for the OpenAPI document: URLs of this shape are all accepted by
# `normalize_url` (it accepts more: IDN hosts, IPv6 literals, user info, ports above 9999).
HTTP_URL_PATTERN = (
    rf"^https?://{_LABEL}(\.{_LABEL}){{0,3}}(:[0-9]{{1,4}})?([/?#][^\x00-\x1f\x7f]*)?$"
)
URL_NOT_NORMALIZABLE = "url_not_normalizable"  # the validation error type (→ VALIDATION_003)


class InvalidUrl(ValueError):
    """The URL cannot be normalised (or is not an absolute http(s) URL)."""


class NotHttpUrl(InvalidUrl):
    """Not an absolute http:// or https:// URL with a host."""


def _host(raw: str) -> str:
    if raw.startswith("["):
        try:
            address = ipaddress.IPv6Address(raw[1:-1])
        except ValueError as exc:
            raise InvalidUrl(f"{raw} is not an IPv6 address") from exc
        # RFC 5952 §5: an IPv4-mapped address ends in dotted IPv4. Python 3.13 writes it so;
        # earlier versions wrote two hex groups, so the form is chosen here, not left to them.
        mapped = address.ipv4_mapped
        return f"[::ffff:{mapped}]" if mapped is not None else f"[{address.compressed}]"
    host = raw.rstrip(".").lower() if raw != "." else ""
    if not host:
        raise NotHttpUrl("The URL has no host")
    if host.isascii():
        if not re.fullmatch(r"[a-z0-9._~!$&'()*+,;=-]+", host):
            raise InvalidUrl(f"{raw!r} is not a valid host name")
        if len(host) > 253 or not all(0 < len(label) <= 63 for label in host.split(".")):
            raise InvalidUrl(f"{raw!r} is not a valid host name (label or name too long)")
        try:
            # An ASCII name with xn-- labels must itself be valid IDNA.
            return idna.encode(host, uts46=True).decode() if "xn--" in host else host
        except idna.IDNAError as exc:
            raise InvalidUrl(f"{raw!r} is not a valid host name: {exc}") from exc
    try:
        return idna.encode(host, uts46=True).decode()
    except idna.IDNAError as exc:
        raise InvalidUrl(f"{raw!r} is not a valid international host name: {exc}") from exc


def _escape(text: str, safe: str) -> str:
    return quote(_STRAY_PERCENT.sub("%25", text), safe=safe, encoding="utf-8")


def normalize_url(url: str) -> str:
    """The canonical form of an absolute http(s) URL; `InvalidUrl` when there is none."""
    text = url.strip()
    if _CONTROL.search(text.replace(" ", "")):
        raise InvalidUrl("The URL contains control characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidUrl(f"The URL cannot be read: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.netloc:
        raise NotHttpUrl("Use an absolute http:// or https:// URL")
    userinfo, _, hostport = parts.netloc.rpartition("@")
    raw_host = hostport
    if hostport.startswith("["):
        raw_host = hostport[: hostport.find("]") + 1]
    elif ":" in hostport:
        raw_host = hostport.rsplit(":", 1)[0]
    if " " in raw_host:
        raise InvalidUrl("The host contains a space")
    netloc = _host(raw_host)
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        netloc += f":{port}"
    if userinfo:
        netloc = _escape(userinfo, "!$&'()*+,;=-._~%:") + "@" + netloc
    path = _escape(parts.path, _PATH_SAFE) or "/"
    normalised = urlunsplit(
        (
            scheme,
            netloc,
            path,
            _escape(parts.query, _QUERY_SAFE),
            _escape(parts.fragment, _QUERY_SAFE),
        )
    )
    if len(normalised) > MAX_LENGTH:
        raise InvalidUrl(f"The URL is longer than {MAX_LENGTH} characters once encoded")
    return normalised
