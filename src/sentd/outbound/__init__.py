"""Everything sentd sends out over HTTP goes through this package: webhook deliveries and test
sends, profile-completion callbacks, Twilio, the WhatsApp Cloud API.

* `urls.py` normalises the URLs customers give (IDNA host, percent-encoded path and query);
* `destinations.py` decides which addresses a customer-chosen URL may reach (SSRF policy) and
  checks them in the resolver, where the connection is made;
* `client.py` is the HTTP client (aiohttp): time-outs, User-Agent, proxies, kept-alive
  connections, one retry on a stale connection, no redirects.
"""

from sentd.outbound.client import (
    Answer,
    OutboundClient,
    OutboundError,
    close_clients,
    for_customers,
    for_providers,
)
from sentd.outbound.destinations import ForbiddenDestination
from sentd.outbound.urls import InvalidUrl, normalize_url

__all__ = [
    "Answer",
    "ForbiddenDestination",
    "InvalidUrl",
    "OutboundClient",
    "OutboundError",
    "close_clients",
    "for_customers",
    "for_providers",
    "normalize_url",
]
