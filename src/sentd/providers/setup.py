"""The providers of a process, built from settings."""

from __future__ import annotations

from sentd.config import Settings
from sentd.providers import twilio, whatsapp_messages
from sentd.providers.registry import Providers
from sentd.services.inbound import configure_keywords


def build_providers(settings: Settings) -> Providers:
    """The providers, and the inbound keyword lists they apply (both come from settings)."""
    configure_keywords(settings.opt_out_keywords, settings.opt_in_keywords, settings.help_keywords)
    providers = Providers(settings)
    for module in (twilio, whatsapp_messages):
        provider = module.from_settings(settings)
        if provider is not None:
            providers.register(provider)
    return providers
