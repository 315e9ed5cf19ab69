"""The simulator: a provider that never leaves the machine, with a realistic asynchronous
lifecycle and magic numbers that make every path reachable on demand.

By the last four digits of the recipient's national number:

| ends | what happens |
|---|---|
| `0001` | refused permanently at submission → FAILED |
| `0002` | a provider outage: the first two submissions fail (retried), the third goes through |
| `0003` | the number has no WhatsApp (a test-mode contact's `available_channels` is `sms`) |
| `0004` | sent, but no delivery receipt ever comes (stays SENT) |
| `0005` | delivered, then the contact replies STOP (opted out) |

Every other number is delivered after `SENTD_SIMULATOR_LATENCY_MS`, and read on WhatsApp after
as long again. Test-mode messages always go to the simulator; live ones only on a channel whose
`SENTD_<CHANNEL>_PROVIDER` is `simulator`, set explicitly (the default is `none`).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sentd.providers.base import OutboundMessage, ProviderError, Submission

FAIL_PERMANENTLY = "0001"
OUTAGE = "0002"
NO_RECEIPT = "0004"
REPLIES_STOP = "0005"
OUTAGE_ATTEMPTS = 2


def magic(number: str) -> str:
    """The suffix that chooses a simulated outcome: the last four digits (of an E.164 number,
    the same as its national number's)."""
    return number[-4:]


class Simulator:
    name = "simulator"
    channels = frozenset({"sms", "whatsapp", "mms", "rcs"})

    async def submit(self, message: OutboundMessage) -> Submission:
        suffix = magic(message.to)
        if suffix == FAIL_PERMANENTLY:
            raise ProviderError(
                "The simulated carrier refused the number",
                transient=False,
                reason_code="DELIVERY_001",
            )
        if suffix == OUTAGE and message.attempt <= OUTAGE_ATTEMPTS:
            raise ProviderError(
                "Simulated provider outage", transient=True, reason_code="INTERNAL_003"
            )
        return Submission(f"sim_{message.id}")


def next_step(
    status: str, channel: str, number: str, now: datetime, latency: timedelta
) -> datetime | None:
    """When the simulated lifecycle takes its next step from `status` (None: it stops there)."""
    if status == "SENT" and magic(number) != NO_RECEIPT:
        return now + latency
    if status == "DELIVERED" and (channel == "whatsapp" or magic(number) == REPLIES_STOP):
        return now + latency
    return None


def simulated_id(message_id: uuid.UUID) -> str:
    return f"sim_{message_id}"
