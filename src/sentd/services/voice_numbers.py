"""Voice numbers: turning voice on for a number, the default line for app calls, the callback
URL and its signing secret, and the callback test."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sentd.auth.principal import Principal
from sentd.config import Settings
from sentd.db.repos import voice_numbers as repo
from sentd.db.scope import Scope
from sentd.db.types import Connection
from sentd.domain.voice_numbers import VoiceNumberChanges
from sentd.errors.exceptions import ApiError
from sentd.phones import InvalidPhoneNumber, normalize_e164
from sentd.services import webhooks
from sentd.services.webhooks import new_secret
from sentd.voice import callback, contract
from sentd.voice.lines import Line, NoNumberAvailable, SimulatedLines, VoiceLines
from sentd.voice.pool import UnknownAreaCode

INACTIVE_DEFAULT = "An inactive number cannot be the default: send status ACTIVE too"


def not_found(number: str) -> ApiError:
    return ApiError("VOICE_001", {"number": [f"Voice is not turned on for {number}"]})


def parse_number(value: str, field: str = "number") -> str:
    try:
        return normalize_e164(value)
    except InvalidPhoneNumber as exc:
        raise ApiError("VALIDATION_002", {field: [str(exc)]}) from exc


def lines_for(settings: Settings, livemode: bool, sandbox: bool) -> VoiceLines:
    """The simulator for test mode and sandbox requests; the configured provider otherwise."""
    if not livemode or sandbox or settings.voice_provider == "simulator":
        return SimulatedLines()
    if settings.voice_provider == "twilio":
        from sentd.providers.twilio_voice import from_settings

        twilio = from_settings(settings)
        if twilio is not None:
            return twilio
    raise ApiError("PROVIDER_003", {"channel": ["voice"]})


async def check_destination(url: str, allow_private: bool) -> None:
    await webhooks.check_destination(url, allow_private, field="callback_url")


async def get(conn: Connection, scope: Scope, number: str, *, lock: bool = False) -> Any:
    row = await repo.get(conn, scope, number, lock=lock)
    if row is None:
        raise not_found(number)
    return row


async def all_of(conn: Connection, scope: Scope) -> list[Any]:
    """Every number voice is turned on for, in `scope`."""
    rows: list[Any] = await repo.all_of(conn, scope)
    return rows


@dataclass(frozen=True, slots=True)
class Enabled:
    row: Any
    created: bool


async def provision(
    lines: VoiceLines, *, number: str | None, area_code: str | None, taken: frozenset[str]
) -> Line:
    """Ask the number source for the line, before any transaction (its provider's REST calls
    hold no database connection): the customer's own `number` as the provider holds it, or a
    new number in `area_code`, none of `taken`."""
    if number is not None and area_code is not None:
        raise ApiError(
            "VALIDATION_001",
            {"area_code": ["Send number for one of yours or area_code for a new one, not both"]},
        )
    if number is not None:
        e164 = parse_number(number)
        held = await lines.held(e164)
        if held is None:
            raise ApiError("VALIDATION_001", {"number": [f"{e164} is not one of your numbers"]})
        return held
    try:
        return await lines.acquire(area_code, taken)
    except UnknownAreaCode as exc:
        raise ApiError("VALIDATION_001", {"area_code": [str(exc)]}) from exc
    except NoNumberAvailable as exc:
        raise ApiError(
            "VALIDATION_001", {"area_code": [f"No number is available in {exc}"]}
        ) from exc


async def enable(
    conn: Connection,
    principal: Principal,
    *,
    callback_url: str,
    line: Line,
    own_number: bool,
    make_default: bool | None,
    now: datetime,
) -> Enabled:
    """Turn voice on for `line` (from `provision`): again for a number of the customer's that
    had it, or anew. `own_number`: the customer named the number (else it is a new one)."""
    scope = principal.scope
    await repo.lock_customer(conn, scope)
    created = True
    existing = await repo.get(conn, scope, line.number, lock=True) if own_number else None
    if existing is not None:  # on again, with the new URL; the secret is kept
        values = {"status": "ACTIVE", "callback_url": callback_url}
        row, created = await repo.update(conn, scope, line.number, values, now), False
    else:
        taken = f"{line.number} carries another account's calls"
        if own_number and await repo.holder(conn, scope.livemode, line.number) is not None:
            raise ApiError("RESOURCE_007", {"number": [taken]})
        row = await repo.insert(
            conn,
            scope,
            number=line.number,
            callback_url=callback_url,
            callback_secret=new_secret(),
            provider=line.provider,
            provider_ref=line.provider_ref,
            now=now,
        )
        if row is None and own_number:
            raise ApiError("RESOURCE_007", {"number": [taken]})
        if row is None:  # a new number someone took meanwhile: rare, and safe to retry
            raise ApiError("VALIDATION_001", {"area_code": ["No number is available; try again"]})
    if make_default or await repo.default_line(conn, scope) is None:
        await repo.clear_default(conn, scope, now)
        row = await repo.update(conn, scope, row["number"], {"default_for_app_calls": True}, now)
    return Enabled(row, created)


async def update(
    conn: Connection, principal: Principal, number: str, changes: VoiceNumberChanges, now: datetime
) -> Any:
    """Change what `changes` names. Making a number the default for app calls needs it ACTIVE;
    the default cannot go INACTIVE while another number could take it over; an ACTIVE number
    becomes the default when there is none."""
    scope = principal.scope
    if not changes.given:
        raise ApiError(
            "VALIDATION_001",
            {"body": ["Name at least one of status, default_for_app_calls, callback_url"]},
        )
    if changes.default_for_app_calls is False:
        raise ApiError(
            "VALIDATION_001",
            {
                "default_for_app_calls": [
                    "false is refused: give the default to another number with true"
                ]
            },
        )
    await repo.lock_customer(conn, scope)
    row = await get(conn, scope, number, lock=True)
    status = changes.status or row["status"]
    make_default = changes.default_for_app_calls is True
    if make_default and status != "ACTIVE":
        raise ApiError(
            "VALIDATION_001",
            {"default_for_app_calls": [INACTIVE_DEFAULT]},
        )
    values: dict[str, Any] = {}
    if "callback_url" in changes.given:
        values["callback_url"] = changes.callback_url
    if "status" in changes.given:
        values["status"] = status
    if status == "INACTIVE" and row["default_for_app_calls"]:
        others = [
            r
            for r in await repo.all_of(conn, scope)
            if r["status"] == "ACTIVE" and r["number"] != number
        ]
        if others:
            raise ApiError(
                "VOICE_004",
                {"status": ["Give default_for_app_calls to another active number first"]},
            )
        values["default_for_app_calls"] = False
    if values:
        row = await repo.update(conn, scope, number, values, now)
    wants_default = make_default or (
        status == "ACTIVE" and await repo.default_line(conn, scope) is None
    )
    if wants_default and not row["default_for_app_calls"]:
        await repo.clear_default(conn, scope, now)
        row = await repo.update(conn, scope, number, {"default_for_app_calls": True}, now)
    return row


async def rotate_secret(conn: Connection, principal: Principal, number: str, now: datetime) -> str:
    """A new secret, in force at once: questions are signed when sent."""
    await get(conn, principal.scope, number, lock=True)
    secret = new_secret()
    await repo.update(conn, principal.scope, number, {"callback_secret": secret}, now)
    return secret


async def test_callback(
    row: Any,
    *,
    account_id: uuid.UUID,
    own_numbers: frozenset[str],
    timeout_s: float,
    allow_private: bool,
    now: datetime,
) -> dict[str, Any]:
    """Send one synthetic question flagged test, and the verdict as VoiceCallbackTest."""
    call_id = uuid.uuid4()
    if not row["callback_url"]:
        raise ApiError("VALIDATION_001", {"callback_url": ["The number has no callback URL"]})
    question = contract.Question(
        call_id=call_id,
        account_id=account_id,
        number=row["number"],
        direction="inbound",
        caller=contract.Party("number", TEST_CALLER),
        callee=contract.Party("number", row["number"]),
        test=True,
    )
    body, headers = contract.signed_question(question, row["callback_secret"], now)
    reply = await callback.post_question(
        row["callback_url"], body, headers, timeout_s=timeout_s, allow_private=allow_private
    )
    verdict = contract.judge(reply, number=row["number"], own_numbers=own_numbers)
    result: dict[str, Any] = {
        "call_id": str(call_id),
        "request": {"url": row["callback_url"], "headers": headers, "body": body.decode()},
        "response": (
            {"status_code": reply.status, "body": callback.shown_body(reply)}
            if reply.status is not None
            else None
        ),
    }
    if isinstance(verdict, contract.AnswerError):
        return {"outcome": verdict.outcome, "answer": None, "error": verdict.wire()} | result
    return {"outcome": "ok", "answer": verdict, "error": None} | result


TEST_CALLER = "+12025550123"
