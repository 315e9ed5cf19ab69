"""Plans and the limits they grant; an organization may override any limit.

Request rates are per organization and mode (its profiles share them). `messages_per_minute`
counts recipients × channels of each send. Quotas (`contacts`, `templates`, `webhooks`,
`profiles`, `messages_per_day`) are checked by the operations that would exceed them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

PLANS = ("starter", "growth", "enterprise")


@dataclass(frozen=True, slots=True)
class Limits:
    requests_per_minute: int
    requests_burst: int
    sensitive_per_minute: int
    sensitive_burst: int
    messages_per_minute: int
    messages_per_day: int
    contacts: int
    templates: int
    webhooks: int
    profiles: int


OVERRIDABLE = tuple(f.name for f in fields(Limits))


def plan_limits(plan: str, request_rates: dict[str, int]) -> Limits:
    """The limits of `plan`, with the request rates configured in settings."""
    per_plan: dict[str, dict[str, int]] = {
        "starter": {
            "messages_per_minute": 60,
            "messages_per_day": 10_000,
            "contacts": 10_000,
            "templates": 100,
            "webhooks": 10,
            "profiles": 5,
        },
        "growth": {
            "messages_per_minute": 300,
            "messages_per_day": 100_000,
            "contacts": 100_000,
            "templates": 500,
            "webhooks": 50,
            "profiles": 50,
        },
        "enterprise": {
            "messages_per_minute": 1_000,
            "messages_per_day": 1_000_000,
            "contacts": 1_000_000,
            "templates": 5_000,
            "webhooks": 200,
            "profiles": 500,
        },
    }
    return Limits(**request_rates, **per_plan.get(plan, per_plan["starter"]))


def effective_limits(plan: str, overrides: dict[str, Any], request_rates: dict[str, int]) -> Limits:
    known = {k: int(v) for k, v in overrides.items() if k in OVERRIDABLE and v is not None}
    return replace(plan_limits(plan, request_rates), **known)
