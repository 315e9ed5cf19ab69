"""The fake Twilio of `tests.fakes.twilio`, extended with Programmable Voice, as a real HTTP
server on loopback.

The API sentd calls (HTTP Basic auth `AccountSid:AuthToken`, 401 code 20003 otherwise):

* `GET …/IncomingPhoneNumbers.json?PhoneNumber=` — the account's numbers (`held` seeds them);
* `POST …/IncomingPhoneNumbers.json` (`PhoneNumber`, `VoiceUrl`) buys an available number
  (21422 when it is not available), `POST …/IncomingPhoneNumbers/{sid}.json` updates one;
* `GET …/AvailablePhoneNumbers/US/Local.json?AreaCode=` — numbers of `available` in that area;
* `POST …/Calls/{sid}.json` `Status=completed` ends a call; `POST …/Calls/{sid}/Recordings.json`
  starts a recording, `…/Recordings/Twilio.CURRENT.json` `Status=stopped` stops it;
* `GET …/Recordings/{sid}.mp3` — a recording's audio.

and Twilio's side of a call, signed as Twilio signs (`X-Twilio-Signature`): `ring(number, caller)`
posts the call to the number's VoiceUrl and returns the TwiML; `answer(twiml)`, `end_dial(twiml,
status, duration)` and `record_ready(twiml, duration)` post to the callbacks that TwiML names.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from tests.fakes.twilio import API_VERSION, FakeTwilio, _basic_auth, _error, new_sid

_ACCOUNT = rf"^/{API_VERSION}/Accounts/([^/]+)/"
AUDIO = b"ID3\x03\x00\x00\x00\x00\x00\x00fake twilio recording"


class FakeTwilioVoice(FakeTwilio):
    def __init__(self, accounts: dict[str, str]) -> None:
        super().__init__(accounts)
        self.incoming: dict[str, dict[str, Any]] = {}  # by number
        self.available: list[str] = []
        self.calls: dict[str, dict[str, Any]] = {}  # by CallSid
        self.voice_requests: list[dict[str, Any]] = []
        self.conferences: dict[str, str] = {}  # room name → ConferenceSid
        self.participants: dict[str, dict[str, Any]] = {}  # by the leg's CallSid
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if not fake._voice(self, "POST"):
                    fake._handle(self)

            def do_GET(self) -> None:
                if not fake._voice(self, "GET"):
                    fake._reply(self, 404, _error(20404, "Not found", 404))

            def do_DELETE(self) -> None:
                if not fake._voice(self, "DELETE"):
                    fake._reply(self, 404, _error(20404, "Not found", 404))

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server.RequestHandlerClass = Handler

    @property
    def account_sid(self) -> str:
        return next(iter(self.accounts))

    def held(self, number: str) -> None:
        self.incoming[number] = {"sid": new_sid("PN"), "phone_number": number, "voice_url": None}

    # -- the API -------------------------------------------------------------------------------

    def _voice(self, handler: BaseHTTPRequestHandler, method: str) -> bool:
        parts = urlsplit(handler.path)
        account = re.match(_ACCOUNT, parts.path)
        rest = parts.path[account.end() :] if account else ""
        if not account or rest.startswith("Messages"):
            return False
        length = int(handler.headers.get("content-length", 0))
        form = dict(parse_qsl(handler.rfile.read(length).decode())) if length else {}
        query = dict(parse_qsl(parts.query))
        auth = _basic_auth(handler.headers.get("authorization", ""))
        with self._lock:
            self.voice_requests.append({"method": method, "path": rest, "form": form})
            if auth is None or self.accounts.get(auth[0]) != auth[1] or auth[0] != account[1]:
                self._reply(handler, 401, _error(20003, "Authenticate", 401))
                return True
            if method == "GET" and rest.startswith("Recordings/") and rest.endswith(".mp3"):
                handler.send_response(200)
                handler.send_header("content-type", "audio/mpeg")
                handler.send_header("content-length", str(len(AUDIO)))
                handler.end_headers()
                handler.wfile.write(AUDIO)
                return True
            status, answer = self._voice_answer(method, rest, form, query)
        if status == 204:
            handler.send_response(204)
            handler.end_headers()
            return True
        self._reply(handler, status, answer)
        return True

    def _voice_answer(
        self, method: str, rest: str, form: dict[str, str], query: dict[str, str]
    ) -> tuple[int, Any]:
        if method == "GET" and rest == "IncomingPhoneNumbers.json":
            found = [
                n for n in self.incoming.values() if n["phone_number"] == query.get("PhoneNumber")
            ]
            return 200, {"incoming_phone_numbers": found}
        if method == "GET" and rest == "AvailablePhoneNumbers/US/Local.json":
            area = query.get("AreaCode", "")
            numbers = [n for n in self.available if n.startswith(f"+1{area}")]
            return 200, {"available_phone_numbers": [{"phone_number": n} for n in numbers]}
        if method == "POST" and rest == "IncomingPhoneNumbers.json":
            number = form.get("PhoneNumber", "")
            if number not in self.available:
                return 400, _error(21422, "PhoneNumber is not available", 400)
            self.available.remove(number)
            self.held(number)
            self.incoming[number]["voice_url"] = form.get("VoiceUrl")
            return 201, self.incoming[number]
        update = re.fullmatch(r"IncomingPhoneNumbers/(PN\w+)\.json", rest)
        if method == "POST" and update:
            for record in self.incoming.values():
                if record["sid"] == update[1]:
                    record["voice_url"] = form.get("VoiceUrl", record["voice_url"])
                    return 200, record
            return 404, _error(20404, "Not found", 404)
        room = re.fullmatch(r"Conferences/(CF\w+)/Participants(?:/(CA\w+))?\.json", rest)
        if room and room[1] in self.conferences.values():
            if room[2] is None and method == "POST":
                leg = new_sid("CA")
                self.participants[leg] = {
                    "conference_sid": room[1],
                    "callback": form.get("StatusCallback"),
                    "from": form.get("From"),
                    "to": form.get("To"),
                    "muted": False,
                    "in_room": True,
                }
                return 201, {"call_sid": leg, "conference_sid": room[1], "muted": False}
            leg_record = self.participants.get(room[2] or "")
            if leg_record is None:
                return 404, _error(20404, "Participant not found", 404)
            if method == "DELETE":
                leg_record["in_room"] = False
                return 204, None
            leg_record["muted"] = form.get("Muted") == "true"
            return 200, {"call_sid": room[2], "muted": leg_record["muted"]}
        call = re.fullmatch(r"Calls/(CA\w+)(?:/Recordings(?:/Twilio\.CURRENT)?)?\.json", rest)
        if method == "POST" and call and call[1] in self.calls:
            record = self.calls[call[1]]
            if rest.endswith("Recordings.json"):
                record["recording"] = True
                return 201, {"sid": new_sid("RE"), "call_sid": call[1]}
            if "Recordings" in rest:
                record["recording"] = False
                return 200, {"sid": new_sid("RE"), "status": form.get("Status")}
            record["status"] = form.get("Status", record["status"])
            return 200, record
        return 404, _error(20404, "The requested resource was not found", 404)

    # -- Twilio's side of a call -----------------------------------------------------------------

    def _post(
        self, url: str, params: list[tuple[str, str]], signature: str | None = None
    ) -> httpx.Response:
        return self._deliver(url, params, self.accounts[self.account_sid], signature)

    def ring(
        self, number: str, caller: str, *, signature: str | None = None
    ) -> tuple[str, ET.Element, httpx.Response]:
        """A call from `caller` to `number`: sentd's TwiML answer, parsed."""
        voice_url = self.incoming[number]["voice_url"]
        assert voice_url, f"{number} has no VoiceUrl"
        sid = new_sid("CA")
        self.calls[sid] = {"sid": sid, "status": "ringing", "recording": False}
        params = [
            ("AccountSid", self.account_sid),
            ("CallSid", sid),
            ("From", caller),
            ("To", number),
            ("CallStatus", "ringing"),
            ("Direction", "inbound"),
            ("ApiVersion", API_VERSION),
        ]
        response = self._post(voice_url, params, signature)
        root = ET.fromstring(response.text) if response.status_code == 200 else ET.Element("x")
        return sid, root, response

    def _dial(self, twiml: ET.Element) -> ET.Element:
        dial = twiml.find("Dial")
        assert dial is not None, ET.tostring(twiml)
        return dial

    def answer(self, sid: str, twiml: ET.Element) -> httpx.Response:
        noun = next(iter(self._dial(twiml)))
        self.calls[sid]["status"] = "in-progress"
        params = [
            ("AccountSid", self.account_sid),
            ("CallSid", new_sid("CA")),
            ("ParentCallSid", sid),
            ("CallStatus", "in-progress"),
        ]
        if noun.tag == "Conference":
            name = noun.text or ""
            room = self.conferences.setdefault(name, new_sid("CF"))
            self.participants[sid] = {  # a call that joined by TwiML is a participant too
                "conference_sid": room,
                "callback": None,
                "from": None,
                "to": None,
                "muted": False,
                "in_room": True,
            }
            params = [
                ("AccountSid", self.account_sid),
                ("CallSid", sid),
                ("ConferenceSid", room),
                ("FriendlyName", name),
                ("StatusCallbackEvent", "participant-join"),
            ]
        return self._post(noun.attrib["statusCallback"], params)

    def participant_status(self, leg: str, status: str, duration: int = 0) -> httpx.Response:
        """Twilio's status callback for a leg dialled into a room through the Participants API."""
        params = [
            ("AccountSid", self.account_sid),
            ("CallSid", leg),
            ("CallStatus", status),
            ("CallDuration", str(duration)),
        ]
        return self._post(self.participants[leg]["callback"], params)

    def end_dial(self, sid: str, twiml: ET.Element, status: str, duration: int) -> httpx.Response:
        dial = self._dial(twiml)
        params = [
            ("AccountSid", self.account_sid),
            ("CallSid", sid),
            ("DialCallStatus", status),
            ("DialCallDuration", str(duration)),
            ("DialCallSid", new_sid("CA")),
        ]
        return self._post(dial.attrib["action"], params)

    def record_ready(
        self, sid: str, twiml: ET.Element, duration: int
    ) -> tuple[str, httpx.Response]:
        dial = self._dial(twiml)
        recording = new_sid("RE")
        url = f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{recording}"
        params = [
            ("AccountSid", self.account_sid),
            ("CallSid", sid),
            ("RecordingSid", recording),
            ("RecordingUrl", url),
            ("RecordingStatus", "completed"),
            ("RecordingDuration", str(duration)),
        ]
        return recording, self._post(dial.attrib["recordingStatusCallback"], params)
