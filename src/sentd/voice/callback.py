"""The one outbound HTTP request of the voice contract: POST a signed question, read the answer.

Kept to this function so the transport can be swapped; it holds no database connection and goes
through the same destination checks (SSRF) as webhook deliveries.
"""

from __future__ import annotations

import httpx

from sentd.net import ForbiddenDestination, check_resolved
from sentd.voice.contract import RESPONSE_BODY_LIMIT, Reply

ANSWER_BODY_LIMIT = 64 * 1024


async def post_question(
    url: str, body: bytes, headers: dict[str, str], *, timeout_s: float, allow_private: bool
) -> Reply:
    """One attempt, no redirects followed, no retry."""
    try:
        await check_resolved(url, allow_private)
        async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False) as client:
            response = await client.post(url, content=body, headers=headers)
    except ForbiddenDestination as exc:
        return Reply(None, None, "connection_failed", f"Destination refused: {exc}")
    except (httpx.TimeoutException, TimeoutError):
        return Reply(None, None, "timeout", f"No answer within {timeout_s:g} s")
    except (httpx.HTTPError, OSError) as exc:
        detail = f"Could not connect: {exc.__class__.__name__}"
        return Reply(None, None, "connection_failed", detail)
    return Reply(response.status_code, response.text[:ANSWER_BODY_LIMIT])


def shown_body(reply: Reply) -> str | None:
    """The start of the answer body, as the callback test reports it."""
    return None if reply.body is None else reply.body[:RESPONSE_BODY_LIMIT]
