"""The one outbound HTTP request of the voice contract: POST a signed question, read the answer.

Kept to this function so the transport can be swapped; it holds no database connection and goes
through the same destination checks (SSRF) as webhook deliveries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sentd import outbound
from sentd.voice import contract
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


async def ask(
    call: Any,
    line: Any,
    own_numbers: frozenset[str],
    now: datetime,
    *,
    timeout_s: float,
    allow_private: bool,
) -> dict[str, Any] | contract.AnswerError:
    """Ask the callback of the number a call rings (`line`, its voice number row, with a
    `callback_url`) what to do with the call (a `calls` row): the question signed with the
    number's secret at `now`, posted, and the reply judged (`contract.judge`)."""
    question = contract.Question(
        call_id=call["id"],
        account_id=call["customer_id"],
        number=call["number"],
        direction=call["direction"],
        caller=contract.Party(call["from_kind"], call["from_value"]),
        callee=contract.Party(call["to_kind"], call["to_value"]),
    )
    body, headers = contract.signed_question(question, line["callback_secret"], now)
    reply = await post_question(
        line["callback_url"], body, headers, timeout_s=timeout_s, allow_private=allow_private
    )
    return contract.judge(reply, number=call["number"], own_numbers=own_numbers)


def shown_body(reply: Reply) -> str | None:
    """The start of the answer body, as the callback test reports it."""
    return None if reply.body is None else reply.body[:RESPONSE_BODY_LIMIT]
