"""The providers of a process, built from settings."""

from __future__ import annotations

from sentd.config import Settings
from sentd.providers import twilio, whatsapp_messages
from sentd.providers.registry import Providers


def build_providers(settings: Settings) -> Providers:
    """The providers the settings configure (the simulator always)."""
    providers = Providers(settings)
    for module in (twilio, whatsapp_messages):
        provider = module.from_settings(settings)
        if provider is not None:
            providers.register(provider)
    return providers
