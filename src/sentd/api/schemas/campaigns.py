"""Bodies of the profile-campaign routes. The `campaign` object is camelCase on the wire, as the
SDKs send it (`useCases`, `sampleMessages`, `helpKeywords`, …). Every string and list is bounded;
unknown keys are ignored and `null` is accepted for every optional field."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from sentd.domain.campaigns import CampaignInput, UseCase
from sentd.outbound.urls import HTTP_URL_PATTERN

MessagingUseCase = Literal[
    "MARKETING", "ACCOUNT_NOTIFICATION", "CUSTOMER_CARE", "FRAUD_ALERT", "TWO_FA",
    "DELIVERY_NOTIFICATION", "SECURITY_ALERT", "M2M", "MIXED", "HIGHER_EDUCATION",
    "POLLING_VOTING", "PUBLIC_SERVICE_ANNOUNCEMENT", "LOW_VOLUME",
]  # fmt: skip

MAX_USE_CASES = 5
MAX_SAMPLE_MESSAGES = 5
MAX_SAMPLE_MESSAGE_CHARS = 1024
MAX_VOLUME = 1_000_000_000


def _not_blank(value: str) -> str:
    if not value.strip():
        # Reported like an absent field: VALIDATION_004.
        raise PydanticCustomError("missing", "This field is required")
    return value


def _volume(value: str) -> str:
    if not value.isascii() or not value.isdigit():
        raise PydanticCustomError("volume", 'Give the volume as a whole number in a string: "1999"')
    number = int(value)
    if not 1 <= number <= MAX_VOLUME:
        raise PydanticCustomError("out_of_range", f"Use a volume from 1 to {MAX_VOLUME}")
    return str(number)  # "01999" reads back as "1999"


def _link(value: str) -> str:
    """An absolute http(s) URL with a host (sentd never calls it: the registry's reviewers do)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PydanticCustomError("url", "Use an absolute http:// or https:// URL")
    return value


def _sample_message(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("sample_message", "A sample message cannot be blank")
    return value


def _distinct_use_cases(value: list[CampaignUseCase]) -> list[CampaignUseCase]:
    names = [u.messaging_use_case_us for u in value]
    if len(set(names)) != len(names):
        raise PydanticCustomError("use_cases", "Name each use case (messagingUseCaseUs) once")
    return value


# What the validators below check, declared in the OpenAPI document too.
NOT_BLANK = {"pattern": r"\S"}
HTTP_URL = {"pattern": HTTP_URL_PATTERN}
VOLUME = {"pattern": r"^0*([1-9][0-9]{0,8}|1000000000)$"}

Name = Annotated[
    str, Field(max_length=100, json_schema_extra=NOT_BLANK), AfterValidator(_not_blank)
]
Description = Annotated[
    str, Field(max_length=4096, json_schema_extra=NOT_BLANK), AfterValidator(_not_blank)
]
CampaignType = Annotated[
    str, Field(max_length=50, json_schema_extra=NOT_BLANK), AfterValidator(_not_blank)
]
Keywords = Annotated[str, Field(max_length=255)]
Message = Annotated[str, Field(max_length=1024)]
Link = Annotated[str, Field(max_length=2048, json_schema_extra=HTTP_URL), AfterValidator(_link)]
SampleMessage = Annotated[
    str,
    Field(min_length=1, max_length=MAX_SAMPLE_MESSAGE_CHARS, json_schema_extra=NOT_BLANK),
    AfterValidator(_sample_message),
]
Volume = Annotated[str, Field(max_length=12, json_schema_extra=VOLUME), AfterValidator(_volume)]


class CamelBody(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class CampaignUseCase(CamelBody):
    messaging_use_case_us: MessagingUseCase = Field(alias="messagingUseCaseUs")
    sample_messages: list[SampleMessage] = Field(
        alias="sampleMessages", min_length=1, max_length=MAX_SAMPLE_MESSAGES
    )


class CampaignData(CamelBody):
    """A campaign as a whole: create and update (PUT) both send all of it."""

    name: Name
    description: Description
    type: CampaignType
    use_cases: Annotated[
        list[CampaignUseCase],
        Field(alias="useCases", min_length=1, max_length=MAX_USE_CASES),
        AfterValidator(_distinct_use_cases),
    ]
    help_keywords: Keywords | None = Field(default=None, alias="helpKeywords")
    help_message: Message | None = Field(default=None, alias="helpMessage")
    message_flow: Annotated[str, Field(max_length=4096)] | None = Field(
        default=None, alias="messageFlow"
    )
    optin_keywords: Keywords | None = Field(default=None, alias="optinKeywords")
    optin_message: Message | None = Field(default=None, alias="optinMessage")
    optout_keywords: Keywords | None = Field(default=None, alias="optoutKeywords")
    optout_message: Message | None = Field(default=None, alias="optoutMessage")
    privacy_policy_link: Link | None = Field(default=None, alias="privacyPolicyLink")
    terms_and_conditions_link: Link | None = Field(default=None, alias="termsAndConditionsLink")
    volume: Volume | None = None

    def to_input(self) -> CampaignInput:
        return CampaignInput(
            name=self.name,
            description=self.description,
            type=self.type,
            use_cases=tuple(
                UseCase(u.messaging_use_case_us, tuple(u.sample_messages)) for u in self.use_cases
            ),
            help_keywords=self.help_keywords,
            help_message=self.help_message,
            message_flow=self.message_flow,
            optin_keywords=self.optin_keywords,
            optin_message=self.optin_message,
            optout_keywords=self.optout_keywords,
            optout_message=self.optout_message,
            privacy_policy_link=self.privacy_policy_link,
            terms_and_conditions_link=self.terms_and_conditions_link,
            volume=self.volume,
        )


class CampaignWrite(BaseModel):
    """The body of create (POST) and update (PUT)."""

    model_config = ConfigDict(extra="ignore")

    campaign: CampaignData
    sandbox: bool | None = None


class CampaignDelete(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sandbox: bool | None = None
