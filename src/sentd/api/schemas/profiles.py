"""Bodies of the profile routes. The `brand` island is camelCase on the wire (as the SDKs send it);
everything else is snake_case. Unknown keys are ignored and `null` is accepted for every optional
field."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from sentd.api.schemas.bounds import (
    MAX_COUNTRIES,
    Description,
    Email,
    Identifier,
    Name,
    Secret,
    Url,
)
from sentd.domain import profiles as domain
from sentd.outbound.urls import HTTP_URL_PATTERN
from sentd.phones import E164

BillingModel = Literal["profile", "organization", "profile_and_organization"]
BrandRelationship = Literal[
    "BASIC_ACCOUNT", "MEDIUM_ACCOUNT", "LARGE_ACCOUNT", "SMALL_ACCOUNT", "KEY_ACCOUNT"
]
Vertical = Literal[
    "PROFESSIONAL", "REAL_ESTATE", "HEALTHCARE", "HUMAN_RESOURCES", "ENERGY", "ENTERTAINMENT",
    "RETAIL", "TRANSPORTATION", "AGRICULTURE", "INSURANCE", "POSTAL", "EDUCATION", "HOSPITALITY",
    "FINANCIAL", "POLITICAL", "GAMBLING", "LEGAL", "CONSTRUCTION", "NGO", "MANUFACTURING",
    "GOVERNMENT", "TECHNOLOGY", "COMMUNICATION",
]  # fmt: skip
EntityType = Literal[
    "PRIVATE_PROFIT", "PUBLIC_PROFIT", "NON_PROFIT", "SOLE_PROPRIETOR", "GOVERNMENT"
]

_SHORT_NAME = re.compile(r"^[A-Za-z0-9 ]+$")


def _short_name(value: str) -> str:
    if not 3 <= len(value) <= 11:
        raise PydanticCustomError("out_of_range", "Use 3 to 11 characters")
    if not _SHORT_NAME.fullmatch(value) or not any(c.isalpha() for c in value):
        raise PydanticCustomError(
            "short_name", "Use letters, digits and spaces, with at least one letter"
        )
    return value


# Declared in the OpenAPI document as the validator checks it.
SHORT_NAME_SCHEMA = {
    "minLength": 3,
    "maxLength": 11,
    "pattern": r"^[A-Za-z0-9 ]*[A-Za-z][A-Za-z0-9 ]*$",
}
ShortName = Annotated[str, AfterValidator(_short_name), Field(json_schema_extra=SHORT_NAME_SCHEMA)]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CamelBody(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class BillingContact(Body):
    email: Email
    name: Name
    address: Description | None = None
    phone: Identifier | None = None


class PaymentDetails(Body):
    card_number: Annotated[str, Field(pattern=r"^[0-9 ]{12,23}$")]
    cvc: Annotated[str, Field(pattern=r"^[0-9]{3,4}$")]
    expiry: Annotated[str, Field(pattern=r"^(0[1-9]|1[0-2])/[0-9]{2}$")]
    zip_code: Identifier


class DestinationCountry(CamelBody):
    id: Identifier | None = None
    is_main: bool | None = Field(default=None, alias="isMain")


class BrandCompliance(CamelBody):
    brand_relationship: BrandRelationship = Field(alias="brandRelationship")
    vertical: Vertical
    destination_countries: Annotated[
        list[DestinationCountry] | None, Field(max_length=MAX_COUNTRIES)
    ] = Field(default=None, alias="destinationCountries")
    is_tcr_application: bool | None = Field(default=None, alias="isTcrApplication")
    notes: Description | None = None
    phone_number_prefix: Identifier | None = Field(default=None, alias="phoneNumberPrefix")


class BrandContact(CamelBody):
    name: Name
    business_name: Name | None = Field(default=None, alias="businessName")
    email: Email | None = None
    phone: Identifier | None = None
    phone_country_code: Identifier | None = Field(default=None, alias="phoneCountryCode")
    role: Name | None = None


class BrandBusiness(CamelBody):
    city: Name | None = None
    country: Identifier | None = None
    country_of_registration: Identifier | None = Field(default=None, alias="countryOfRegistration")
    entity_type: EntityType | None = Field(default=None, alias="entityType")
    legal_name: Name | None = Field(default=None, alias="legalName")
    postal_code: Identifier | None = Field(default=None, alias="postalCode")
    state: Name | None = None
    street: Description | None = None
    tax_id: Identifier | None = Field(default=None, alias="taxId")
    tax_id_type: Identifier | None = Field(default=None, alias="taxIdType")
    url: Url | None = None


class Brand(CamelBody):
    compliance: BrandCompliance
    contact: BrandContact
    business: BrandBusiness | None = None

    def to_domain(self) -> domain.Brand:
        compliance = self.compliance.model_dump(exclude={"destination_countries"})
        compliance["destination_countries"] = [
            {"id": c.id, "isMain": c.is_main} for c in self.compliance.destination_countries or []
        ]
        return domain.Brand(
            contact=self.contact.model_dump(),
            compliance=compliance,
            business=self.business.model_dump() if self.business else None,
        )


class WhatsappBusinessAccount(Body):
    waba_id: Identifier
    access_token: Secret
    phone_number_id: Identifier | None = None


class ProfileFields(Body):
    """What create and update share."""

    short_name: ShortName | None = None
    description: Description | None = None
    icon: Url | None = None
    billing_model: BillingModel | None = None
    billing_contact: BillingContact | None = None
    payment_details: PaymentDetails | None = None
    brand: Brand | None = None
    inherit_tcr_brand: bool | None = None
    inherit_tcr_campaign: bool | None = None
    inherit_contacts: bool | None = None
    inherit_templates: bool | None = None
    allow_contact_sharing: bool | None = None
    allow_template_sharing: bool | None = None
    sandbox: bool | None = None

    def _settings(self) -> dict[str, Any]:
        """The shared fields as the domain's `ProfileSettings` takes them."""
        payment = self.payment_details
        return {
            "short_name": self.short_name,
            "description": self.description,
            "icon": self.icon,
            "billing_model": self.billing_model,
            "billing_contact": self.billing_contact.model_dump() if self.billing_contact else None,
            "payment_details": (
                domain.PaymentDetails(payment.card_number, payment.expiry) if payment else None
            ),
            "brand": self.brand.to_domain() if self.brand else None,
            "inherit_tcr_brand": self.inherit_tcr_brand,
            "inherit_tcr_campaign": self.inherit_tcr_campaign,
            "inherit_contacts": self.inherit_contacts,
            "inherit_templates": self.inherit_templates,
            "allow_contact_sharing": self.allow_contact_sharing,
            "allow_template_sharing": self.allow_template_sharing,
        }


# The create rules across fields (services/profiles.py), declared in the OpenAPI document: unless
# the organization pays, a billing contact is required (billing_model defaults to "profile");
# when it pays, no payment details; a brand of its own or the organization's, not both.
CREATE_RULES: dict[str, Any] = {
    "allOf": [
        {
            "if": {
                "required": ["billing_model"],
                "properties": {"billing_model": {"const": "organization"}},
            },
            "then": {"properties": {"payment_details": {"type": "null"}}},
            "else": {
                "required": ["billing_contact"],
                "properties": {"billing_contact": {"type": "object"}},
            },
        },
        {
            "if": {
                "required": ["inherit_tcr_brand"],
                "properties": {"inherit_tcr_brand": {"const": True}},
            },
            "then": {"properties": {"brand": {"type": "null"}}},
        },
    ]
}


class ProfileCreate(ProfileFields):
    model_config = ConfigDict(extra="ignore", json_schema_extra=CREATE_RULES)
    name: str = Field(min_length=1, max_length=200)
    whatsapp_business_account: WhatsappBusinessAccount | None = None

    def to_input(self) -> domain.ProfileInput:
        account = self.whatsapp_business_account
        return domain.ProfileInput(
            **self._settings(),
            name=self.name,
            whatsapp_business_account=account.model_dump() if account else None,
        )


class ProfileUpdate(ProfileFields):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    allow_number_change_during_onboarding: bool | None = None
    sending_phone_number: E164 | None = None
    whatsapp_phone_number: E164 | None = None
    sending_phone_number_profile_id: Identifier | None = None  # deprecated: accepted, ignored
    sending_whatsapp_number_profile_id: Identifier | None = None  # deprecated: ignored

    def to_changes(self) -> domain.ProfileChanges:
        return domain.ProfileChanges(
            **self._settings(),
            name=self.name,
            allow_number_change_during_onboarding=self.allow_number_change_during_onboarding,
            sending_phone_number=self.sending_phone_number,
            whatsapp_phone_number=self.whatsapp_phone_number,
            given=frozenset(self.model_fields_set),
        )


class ProfileComplete(CamelBody):
    web_hook_url: str = Field(
        alias="webHookUrl",
        min_length=1,
        max_length=2048,
        json_schema_extra={"pattern": HTTP_URL_PATTERN},
    )
    sandbox: bool | None = None


class ProfileDelete(Body):
    sandbox: bool | None = None
