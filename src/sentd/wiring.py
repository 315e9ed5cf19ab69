"""What a process is built with, beyond its settings: the explicit registrations.

Nothing in sentd registers itself when imported. `create_app` (and the tests' apps) call these
to hand each layer the callables of the layer above it that it must reach: the WhatsApp webhook's
handlers (providers parse, services record) and the inbound keyword lists; and to hand the
services the providers they command (the voice commands of each provider a call names)."""

from __future__ import annotations

import functools

from sentd.clock import Clock
from sentd.config import Settings
from sentd.db.database import Database
from sentd.providers import twilio_voice, voice_commands, whatsapp_messages, whatsapp_webhook
from sentd.providers.inbound import InboundActions
from sentd.providers.voice_commands import VoiceCommands, VoiceCommandsFor
from sentd.providers.whatsapp_webhook import Handler
from sentd.services import inbound, lifecycle, templates
from sentd.services.call_commands import CallCommands


def keywords(settings: Settings) -> inbound.Keywords:
    """The inbound keyword lists of the settings (`SENTD_OPT_OUT_KEYWORDS`, …)."""
    return inbound.Keywords.from_settings(settings)


def inbound_actions(words: inbound.Keywords) -> InboundActions:
    """The domain actions a provider's callbacks lead to."""
    return InboundActions(
        record_status=lifecycle.record_provider_status,
        owner_of_number=inbound.owner_of_number,
        receive=functools.partial(inbound.receive, keywords=words),
    )


def whatsapp_handlers(words: inbound.Keywords) -> dict[str, Handler]:
    """The handler of each `field` of Meta's WhatsApp webhook."""
    return {
        "messages": whatsapp_messages.messages_handler(inbound_actions(words)),
        "message_template_status_update": whatsapp_webhook.template_status_handler(
            templates.apply_whatsapp_status
        ),
    }


def voice_commands_for(settings: Settings) -> VoiceCommandsFor:
    """The commands of each provider a call may name: the simulator's (nothing to send), and
    Twilio's when its account settings are there (read when asked, as the numbers' are)."""
    simulated = voice_commands.Simulated()

    def commands_for(provider: str) -> VoiceCommands | None:
        if provider == simulated.name:
            return simulated
        if provider == twilio_voice.TwilioVoice.name:
            return twilio_voice.from_settings(settings)
        return None

    return commands_for


def call_commands(db: Database, settings: Settings, clock: Clock) -> CallCommands:
    """The API's commands on live calls, given each provider's voice commands."""
    return CallCommands(db, voice_commands_for(settings), clock)
