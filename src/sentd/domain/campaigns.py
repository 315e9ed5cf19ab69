"""What creating or replacing a profile campaign takes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UseCase:
    messaging_use_case_us: str
    sample_messages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CampaignInput:
    """A campaign as a whole: create and update (a full replacement) both take all of it."""

    name: str
    description: str
    type: str
    use_cases: tuple[UseCase, ...]
    help_keywords: str | None = None
    help_message: str | None = None
    message_flow: str | None = None
    optin_keywords: str | None = None
    optin_message: str | None = None
    optout_keywords: str | None = None
    optout_message: str | None = None
    privacy_policy_link: str | None = None
    terms_and_conditions_link: str | None = None
    volume: str | None = None
