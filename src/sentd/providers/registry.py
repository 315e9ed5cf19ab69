"""Which provider sends a message: the simulator in test mode; in live mode the provider
configured for the channel (`SENTD_SMS_PROVIDER`, `SENTD_WHATSAPP_PROVIDER`, …)."""

from __future__ import annotations

from typing import Any

from sentd.providers.base import Provider
from sentd.providers.simulator import Simulator


class Providers:
    def __init__(self, settings: Any, extra: dict[str, Provider] | None = None) -> None:
        self.settings = settings
        self.by_name: dict[str, Provider] = {"simulator": Simulator(), **(extra or {})}

    def register(self, provider: Provider) -> None:
        self.by_name[provider.name] = provider

    def for_channel(self, channel: str, livemode: bool) -> Provider | None:
        name = "simulator" if not livemode else getattr(self.settings, f"{channel}_provider", None)
        provider = self.by_name.get(name) if name else None
        if provider is None or channel not in provider.channels:
            return None
        return provider
