"""Twilio Programmable Voice: the numbers (IncomingPhoneNumbers, AvailablePhoneNumbers), the
REST commands on a live call (`sentd.providers.voice_commands.VoiceCommands`: hang up, record,
the conference room's participants, a recording's audio), and the TwiML sentd answers Twilio's voice
webhook with, built from the customer's answer.

Twilio calls sentd back at `{SENTD_PUBLIC_URL}/providers/twilio/voice` (a call arrives at a number,
or an app user dials through the TwiML app), `/voice/answered`, `/voice/dial` (the `<Dial>` ended)
and `/voice/recording` (a recording is ready); see `sentd.api.routes.twilio_voice`.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape, quoteattr

from sentd import outbound
from sentd.config import Settings
from sentd.providers.base import PROVIDER_BODY_LIMIT
from sentd.providers.twilio import API_VERSION, TwilioConfig
from sentd.providers.voice_commands import NewLeg, RoomNotStarted, VoiceCommandError
from sentd.voice import pool
from sentd.voice.lines import Line, NoNumberAvailable
from sentd.voice.tokens import provider_identity

log = logging.getLogger("sentd.providers.twilio_voice")

VOICE_PATH = "/providers/twilio/voice"
TIMEOUT_S = 10.0
RECORDING_LIMIT = 64 * 2**20  # bytes of a recording's audio sentd fetches at most


class TwilioVoiceError(VoiceCommandError):
    pass


def _room(room_ref: str | None) -> str:
    if not room_ref:
        raise RoomNotStarted("The conference room has not started yet")
    return room_ref


class TwilioVoice:
    name = "twilio"

    def __init__(self, config: TwilioConfig) -> None:
        self.config = config

    def _url(self, path: str) -> str:
        account = quote(self.config.account_sid)
        return f"{self.config.api_base}/{API_VERSION}/Accounts/{account}/{path}"

    async def _request(self, method: str, url: str, body_limit: int, **kwargs: Any) -> Any:
        auth = (self.config.account_sid, self.config.auth_token)
        try:
            return await outbound.for_providers().request(
                method, url, auth=auth, timeout_s=TIMEOUT_S, body_limit=body_limit, **kwargs
            )
        except outbound.OutboundError as exc:
            raise TwilioVoiceError(f"Twilio unreachable: {exc}") from exc

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        if isinstance(kwargs.get("data"), dict):
            kwargs["data"] = list(kwargs["data"].items())  # form-encoded
        answer = await self._request(method, self._url(path), PROVIDER_BODY_LIMIT, **kwargs)
        if not answer.ok:
            raise TwilioVoiceError(f"Twilio answered {answer.status}: {answer.text()[:200]}")
        return answer.json() if answer.body else None

    def _number_settings(self) -> dict[str, str]:
        base = self.config.public_url or ""
        return {"VoiceUrl": f"{base}{VOICE_PATH}", "VoiceMethod": "POST"}

    # -- numbers (the VoiceLines protocol) -------------------------------------------------------

    async def held(self, number: str) -> Line | None:
        """The account's incoming number, pointed at sentd's voice webhook; None if not held."""
        found = await self._call("GET", "IncomingPhoneNumbers.json", params={"PhoneNumber": number})
        numbers = (found or {}).get("incoming_phone_numbers") or []
        if not numbers:
            return None
        sid = str(numbers[0]["sid"])
        await self._call("POST", f"IncomingPhoneNumbers/{sid}.json", data=self._number_settings())
        return Line(number, self.name, sid)

    async def acquire(self, area_code: str | None, taken: frozenset[str]) -> Line:
        if area_code is not None and not pool.AREA_CODE.fullmatch(area_code):
            raise pool.UnknownAreaCode("An area code is three digits, not starting with 0 or 1")
        params = {"VoiceEnabled": "true"} | ({"AreaCode": area_code} if area_code else {})
        found = await self._call("GET", "AvailablePhoneNumbers/US/Local.json", params=params)
        candidates = [
            str(n["phone_number"])
            for n in (found or {}).get("available_phone_numbers") or []
            if n.get("phone_number") not in taken
        ]
        if not candidates:
            raise NoNumberAvailable(area_code or "the US")
        bought = await self._call(
            "POST",
            "IncomingPhoneNumbers.json",
            data={"PhoneNumber": candidates[0]} | self._number_settings(),
        )
        return Line(str(bought["phone_number"]), self.name, str(bought["sid"]))

    # -- live calls ------------------------------------------------------------------------------

    async def hangup(self, call_ref: str) -> None:
        await self._call("POST", f"Calls/{call_ref}.json", data={"Status": "completed"})

    async def record(
        self, call_ref: str, action: str, *, base_url: str, call_id: uuid.UUID
    ) -> None:
        if action == "start":
            query = urlencode({"call_id": call_id})
            data = {"RecordingStatusCallback": f"{base_url}{VOICE_PATH}/recording?{query}"}
            await self._call("POST", f"Calls/{call_ref}/Recordings.json", data=data)
        else:
            path = f"Calls/{call_ref}/Recordings/Twilio.CURRENT.json"
            await self._call("POST", path, data={"Status": "stopped"})

    async def add_participant(self, room_ref: str | None, leg: NewLeg, *, base_url: str) -> str:
        """Dial the leg (a number, or `client:<namespaced identity>`) into the room; the new
        leg's CallSid. Its status callbacks name the id sentd records it under."""
        callee = leg.value
        if leg.kind == "user":
            callee = "client:" + provider_identity(leg.customer_id, leg.livemode, leg.value)
        query = urlencode({"call_id": leg.id})
        data = {
            "From": leg.caller,
            "To": callee,
            "StatusCallback": f"{base_url}{VOICE_PATH}/participant?{query}",
            "StatusCallbackEvent": "answered completed",
        }
        placed = await self._call(
            "POST", f"Conferences/{_room(room_ref)}/Participants.json", data=data
        )
        return str(placed["call_sid"])

    async def mute(self, room_ref: str | None, call_ref: str, muted: bool) -> None:
        path = f"Conferences/{_room(room_ref)}/Participants/{call_ref}.json"
        await self._call("POST", path, data={"Muted": "true" if muted else "false"})

    async def kick(self, room_ref: str | None, call_ref: str) -> None:
        path = f"Conferences/{_room(room_ref)}/Participants/{call_ref}.json"
        await self._call("DELETE", path)

    async def recording_audio(self, media_url: str) -> bytes:
        answer = await self._request("GET", f"{media_url}.mp3", RECORDING_LIMIT)
        if answer.status != 200:
            raise TwilioVoiceError(f"Twilio answered {answer.status} for the recording")
        audio: bytes = answer.body
        return audio


def from_settings(settings: Settings) -> TwilioVoice | None:
    config = TwilioConfig.from_settings(settings)
    return TwilioVoice(config) if config is not None else None


# -- TwiML ---------------------------------------------------------------------------------------


def twiml(*verbs: str) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?><Response>' + "".join(verbs) + "</Response>"


def reject() -> str:
    return twiml('<Reject reason="rejected"/>')


def hangup() -> str:
    return twiml("<Hangup/>")


def dial(
    answer: dict[str, Any],
    *,
    base_url: str,
    call_id: str,
    customer_id: Any,
    livemode: bool,
) -> str:
    """The `<Dial>` for a `connect` answer: a number, an app user (`<Client>`, with the namespaced
    identity) or a room (`<Conference>`, namespaced by account). Twilio reports the answer of the
    dialled leg to /voice/answered, the end of the dial to /voice/dial, a recording to
    /voice/recording — each with sentd's call id."""
    action = answer["action"]
    target = action["to"]
    query = urlencode({"call_id": call_id})
    answered = quoteattr(f"{base_url}{VOICE_PATH}/answered?{query}")
    attributes = {
        "callerId": action["callerId"],
        "timeout": str(action["timeoutSeconds"]),
        "action": f"{base_url}{VOICE_PATH}/dial?{query}",
        "method": "POST",
    }
    if action["record"]:
        attributes["record"] = "record-from-answer"
        attributes["recordingStatusCallback"] = f"{base_url}{VOICE_PATH}/recording?{query}"
    opened = "<Dial " + " ".join(f"{k}={quoteattr(v)}" for k, v in attributes.items()) + ">"
    events = f'statusCallbackEvent="answered" statusCallback={answered}'
    if target["kind"] == "number":
        noun = f"<Number {events}>{escape(target['value'])}</Number>"
    elif target["kind"] == "user":
        identity = provider_identity(customer_id, livemode, target["value"])
        noun = f"<Client {events}>{escape(identity)}</Client>"
    else:
        room = f"{customer_id.hex}-{target['value']}"
        joined = f'statusCallbackEvent="join" statusCallback={answered}'
        noun = f"<Conference {joined}>{escape(room)}</Conference>"
    return twiml(opened + noun + "</Dial>")
