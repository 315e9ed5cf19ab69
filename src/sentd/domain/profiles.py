"""What creating or changing a sender profile takes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class PaymentDetails:
    """The card as given; the service keeps only its last four digits and expiry."""

    card_number: str
    expiry: str


@dataclass(frozen=True, slots=True)
class Brand:
    """A brand's three parts as stored (camelCase keys inside `destination_countries`)."""

    contact: dict[str, Any]
    compliance: dict[str, Any]
    business: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ProfileSettings:
    """What create and update share: `None` means "not given"."""

    short_name: str | None = None
    description: str | None = None
    icon: str | None = None
    billing_model: str | None = None
    billing_contact: dict[str, Any] | None = None
    payment_details: PaymentDetails | None = None
    brand: Brand | None = None
    inherit_tcr_brand: bool | None = None
    inherit_tcr_campaign: bool | None = None
    inherit_contacts: bool | None = None
    inherit_templates: bool | None = None
    allow_contact_sharing: bool | None = None
    allow_template_sharing: bool | None = None


@dataclass(frozen=True, slots=True)
class ProfileInput(ProfileSettings):
    name: str = ""
    whatsapp_business_account: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ProfileChanges(ProfileSettings):
    """A partial update. `given` names the fields the caller sent (a field given as `None`
    clears an optional value; one left out stays as it is)."""

    name: str | None = None
    allow_number_change_during_onboarding: bool | None = None
    sending_phone_number: str | None = None
    whatsapp_phone_number: str | None = None
    given: frozenset[str] = field(default_factory=frozenset)
