"""What a process is built with, beyond its settings: the explicit registrations.

Nothing in sentd registers itself when imported. `create_app` (and the tests' apps) call these
to hand each layer the callables of the layer above it that it must reach: the WhatsApp webhook's
handlers (providers parse, services record) and the inbound keyword lists."""

from __future__ import annotations

import functools

from sentd.config import Settings
from sentd.providers import whatsapp_messages, whatsapp_webhook
from sentd.providers.inbound import InboundActions
from sentd.providers.whatsapp_webhook import Handler
from sentd.services import inbound, lifecycle, templates


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
