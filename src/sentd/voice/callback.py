"""The one outbound HTTP request of the voice contract: POST a signed question, read the answer.

Kept to this function so the transport can be swapped; it holds no database connection and goes
through the same destination checks (SSRF) as webhook deliveries.
"""

from __future__ import annotations

from sentd import outbound
from sentd.voice.contract import RESPONSE_BODY_LIMIT, Reply

ANSWER_BODY_LIMIT = 64 * 1024


async def post_question(
    url: str, body: bytes, headers: dict[str, str], *, timeout_s: float, allow_private: bool
) -> Reply:
    """One attempt through the outbound layer (SSRF checked where it connects, no redirects)."""
    client = outbound.for_customers(allow_private)
    try:
        answer = await client.request(
            "POST",
            url,
            data=body,
            headers=headers,
            timeout_s=timeout_s,
            body_limit=ANSWER_BODY_LIMIT,
        )
    except outbound.ForbiddenDestination as exc:
        return Reply(None, None, "connection_failed", f"Destination refused: {exc}")
    except outbound.OutboundError as exc:
        if exc.timed_out:
            return Reply(None, None, "timeout", f"No answer within {timeout_s:g} s")
        return Reply(None, None, "connection_failed", f"Could not connect: {exc}")
    return Reply(answer.status, answer.text())


def shown_body(reply: Reply) -> str | None:
    """The start of the answer body, as the callback test reports it."""
    return None if reply.body is None else reply.body[:RESPONSE_BODY_LIMIT]
