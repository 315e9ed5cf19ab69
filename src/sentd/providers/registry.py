"""Which provider sends a message: the simulator in test mode; in live mode the provider
configured for the channel (`SENTD_SMS_PROVIDER`, `SENTD_WHATSAPP_PROVIDER`, …).

Live mode has no provider for a channel unless the operator configured one: the default of each
setting is `none`, and the simulator sends live traffic only when a setting names it explicitly.
"""

from __future__ import annotations

from sentd.config import Settings
from sentd.providers.base import Provider
from sentd.providers.simulator import Simulator


def setting_name(channel: str) -> str:
    """The environment variable that chooses a channel's live provider."""
    return f"SENTD_{channel.upper()}_PROVIDER"


class Providers:
    def __init__(self, settings: Settings, extra: dict[str, Provider] | None = None) -> None:
        self.settings = settings
        self.by_name: dict[str, Provider] = {"simulator": Simulator(), **(extra or {})}

    def register(self, provider: Provider) -> None:
        self.by_name[provider.name] = provider

    def live_setting(self, channel: str) -> str:
        """The configured live provider of a channel ("none" when unset)."""
        return self.settings.live_provider(channel)

    def for_channel(self, channel: str, livemode: bool) -> Provider | None:
        name = "simulator" if not livemode else self.live_setting(channel)
        provider = self.by_name.get(name)
        if provider is None or channel not in provider.channels:
            return None
        return provider

    def why_none(self, channel: str) -> str:
        """Why live mode has no provider for a channel, naming the setting to change."""
        setting, name = setting_name(channel), self.live_setting(channel)
        if name == "none":
            return f"No live provider is configured for {channel}: set {setting}"
        return (
            f"{setting}={name}, but that provider is not set up on this server "
            f"(see docs/providers.md)"
        )
