"""Which voice commands a call's provider gets (`sentd.wiring.voice_commands_for`): the
simulator's send nothing, Twilio's exist only with its account settings, an unknown provider has
none (the API answers 422 PROVIDER_003 for such a call)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from sentd import wiring
from sentd.config import Settings
from sentd.providers.twilio_voice import TwilioVoice
from sentd.providers.voice_commands import NewLeg, RoomNotStarted, Simulated, VoiceCommandError


def test_simulated_calls_send_nothing() -> None:
    commands = wiring.voice_commands_for(Settings())("simulator")
    assert isinstance(commands, Simulated)
    leg = NewLeg(uuid.uuid4(), "number", "+14155550100", "+14155550101", uuid.uuid4(), False)

    async def go() -> str | None:
        await commands.hangup("ref")
        await commands.kick(None, "ref")
        with pytest.raises(VoiceCommandError):
            await commands.recording_audio("http://nowhere/recording")
        return await commands.add_participant(None, leg, base_url="http://sentd")

    assert asyncio.run(go()) is None


def test_twilio_only_when_configured() -> None:
    assert wiring.voice_commands_for(Settings())("twilio") is None
    configured = Settings(twilio_account_sid="AC" + "a" * 32, twilio_auth_token="token")
    assert isinstance(wiring.voice_commands_for(configured)("twilio"), TwilioVoice)
    assert wiring.voice_commands_for(configured)("carrier-pigeon") is None


def test_a_room_command_needs_the_room() -> None:
    configured = Settings(twilio_account_sid="AC" + "a" * 32, twilio_auth_token="token")
    twilio = wiring.voice_commands_for(configured)("twilio")
    assert twilio is not None
    with pytest.raises(RoomNotStarted):
        asyncio.run(twilio.mute(None, "CA" + "0" * 32, True))
