"""What each operation answers on success: its status and the `data` of the envelope.

The routes build their responses as dicts (`api/views`, `api/envelope.py`) and this module only
describes them for the OpenAPI document: nothing here is on the request path. The models follow
the views key for key (and the official SDK's models: keys it requires are required here); a key
that is always present but may be null is required and nullable, a key present only in some
states has a default. `tests/api/test_contract.py` checks a live server against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sentd.api.schemas.templates import DefinitionObject


class Model(BaseModel):
    """A response record: further keys may appear (clients must ignore unknown keys)."""

    model_config = ConfigDict(extra="allow")


class Pagination(Model):
    page: int
    page_size: int
    total_count: int
    total_pages: int
    has_more: bool
    cursors: dict[str, Any] | None


# --- accounts -------------------------------------------------------------------------------


class ProfileSummary(Model):
    id: str
    name: str
    short_name: str | None
    description: str | None
    icon: str | None
    role: str
    status: str | None
    created_at: datetime
    settings: dict[str, Any]


class Balance(Model):
    amount: float
    amount_micros: int
    currency: str | None


class Account(Model):
    id: str
    type: Literal["organization", "profile"]
    name: str
    email: str | None
    icon: str | None
    description: str | None
    created_at: datetime
    profiles: list[ProfileSummary]
    channels: dict[str, Any]
    sending_phone_number: str | None
    sending_phone_number_profile_id: str | None
    enable_template_auto_creation_for_sp: bool
    balance: Balance
    mode: Literal["live", "test"]
    role: str
    organization_id: str | None = None
    short_name: str | None = None
    status: str | None = None
    settings: dict[str, Any] | None = None


class Organization(Model):
    id: str
    type: Literal["organization"]
    name: str
    email: str | None
    icon: str | None
    description: str | None
    created_at: datetime
    updated_at: datetime | None
    profiles: list[ProfileSummary]


# --- profiles and campaigns -----------------------------------------------------------------


class BillingContactView(Model):
    name: str | None
    email: str | None
    phone: str | None
    address: Any


class BrandView(Model):
    id: str
    tcr_brand_id: str | None
    universal_ein: str | None
    csp_id: str | None
    status: str
    identity_status: str
    is_inherited: bool
    submitted_to_tcr: bool
    submitted_at: datetime | None
    created_at: datetime | None
    updated_at: datetime | None
    contact: dict[str, Any] | None
    business: dict[str, Any] | None
    compliance: dict[str, Any] | None


class Profile(Model):
    id: str
    organization_id: str
    name: str
    short_name: str | None
    description: str | None
    icon: str | None
    email: str | None
    status: str | None
    billing_model: str
    billing_contact: BillingContactView | None
    brand: BrandView | None
    waba_id: str | None
    sending_phone_number: str | None
    whatsapp_phone_number: str | None
    sending_phone_number_profile_id: str | None
    sending_whatsapp_number_profile_id: str | None
    allow_number_change_during_onboarding: bool | None
    inherit_tcr_brand: bool
    inherit_tcr_campaign: bool
    allow_contact_sharing: bool
    allow_template_sharing: bool
    inherit_contacts: bool
    inherit_templates: bool
    created_at: datetime
    updated_at: datetime | None


class ProfileList(Model):
    profiles: list[Profile]
    pagination: Pagination


class CallbackSecret(Model):
    callback_secret: str


class ProfileReview(Model):
    status: Literal["completed", "in_progress", "submitted"]
    message: str


class UseCaseView(Model):
    id: str
    campaignId: str
    customerId: str
    messagingUseCaseUs: str
    sampleMessages: list[str]
    createdAt: datetime | None
    updatedAt: datetime | None


class Campaign(Model):
    id: str
    brandId: str | None
    customerId: str
    name: str
    description: str
    type: str
    status: str
    volume: str | None
    cost: float | None
    billedDate: datetime | None
    hasSubmissionTransaction: bool
    submittedToTCR: bool
    submittedAt: datetime | None
    tcrCampaignId: str | None
    tcrSyncError: str | None
    dcaElectionsComplete: bool
    dcaElectionsCompletedAt: datetime | None
    helpKeywords: str | None
    helpMessage: str | None
    messageFlow: str | None
    optinKeywords: str | None
    optinMessage: str | None
    optoutKeywords: str | None
    optoutMessage: str | None
    privacyPolicyLink: str | None
    termsAndConditionsLink: str | None
    useCases: list[UseCaseView]
    createdAt: datetime
    updatedAt: datetime | None


# --- users ----------------------------------------------------------------------------------


class User(Model):
    id: str
    customer_id: str
    email: str
    name: str | None
    role: str
    status: str
    created_at: datetime
    invited_at: datetime | None
    last_login_at: datetime | None
    updated_at: datetime | None


class UserList(Model):
    users: list[User]
    pagination: Pagination


# --- contacts -------------------------------------------------------------------------------


class Contact(Model):
    id: str
    customer_id: str
    phone_number: str
    format_e164: str
    format_international: str | None
    format_national: str | None
    format_rfc: str | None
    country_code: str | None
    region_code: str | None
    available_channels: str | None
    default_channel: str | None
    opt_out: bool
    is_inherited: bool
    created_at: datetime
    updated_at: datetime | None


class ContactList(Model):
    contacts: list[Contact]
    pagination: Pagination


class ChannelScore(Model):
    channel: str
    success_score: int
    fail_score: int


class MessageSummary(Model):
    contact_id: str
    message_count: int
    first_message_at: datetime | None
    last_message_at: datetime | None
    channels_used: list[str]
    channel_scores: list[ChannelScore]


# --- templates ------------------------------------------------------------------------------


class MessageTemplate(Model):
    id: str
    customer_id: str
    name: str
    category: str | None
    language: str | None
    status: str
    channels: list[str]
    variables: list[Any]
    is_published: bool
    is_inherited: bool
    rejection_reason: str | None
    creation_source: str | None
    whatsapp_template_id: str | None
    definition: DefinitionObject | None
    created_at: datetime
    updated_at: datetime | None


class TemplateList(Model):
    templates: list[MessageTemplate]
    pagination: Pagination


# --- numbers --------------------------------------------------------------------------------


class NumberLookup(Model):
    phone_number: str
    country_code: str | None
    carrier_name: str | None
    line_type: str | None
    is_valid: bool
    is_voip: bool | None
    is_ported: bool | None
    mobile_country_code: str | None
    mobile_network_code: str | None


# --- webhooks -------------------------------------------------------------------------------


class Webhook(Model):
    id: str
    customer_id: str
    display_name: str
    endpoint_url: str
    event_types: list[str]
    event_filters: dict[str, Any] | None
    is_active: bool
    signing_secret: str
    retry_count: int
    timeout_seconds: int
    consecutive_failures: int
    last_delivery_attempt_at: datetime | None
    last_successful_delivery_at: datetime | None
    created_at: datetime
    updated_at: datetime | None


class WebhookList(Model):
    webhooks: list[Webhook]
    pagination: Pagination


class EventType(Model):
    name: str
    display_name: str
    description: str | None
    event_type: str
    is_active: bool
    sub_types: list[EventType]


class EventTypeList(Model):
    event_types: list[EventType]
    pagination: Pagination


class Delivery(Model):
    id: str
    event_type: str
    event_data: dict[str, Any] | None
    delivery_status: str
    http_status_code: int | None
    response_body: str | None
    delivery_attempts: int
    error_message: str | None
    created_at: datetime
    processing_started_at: datetime | None
    processing_completed_at: datetime | None


class DeliveryList(Model):
    events: list[Delivery]
    pagination: Pagination


class SigningSecret(Model):
    signing_secret: str


class WebhookTest(Model):
    success: bool
    message: str


# --- messages -------------------------------------------------------------------------------


class MessageEvent(Model):
    status: str
    timestamp: datetime
    description: str | None
    reason_code: str | None
    reason: str | None


class MessageBody(Model):
    content: str | None
    header: Any
    footer: Any
    subject: str | None
    buttons: list[Any]
    headerMedia: Any
    media: list[Any]


class Message(Model):
    id: str
    customer_id: str
    contact_id: str
    channel: str | None
    direction: str
    status: str
    phone: str
    phone_international: str | None
    region_code: str | None
    price: float | None
    active_contact_price: float | None
    template_id: str | None
    template_name: str | None
    template_category: str | None
    created_at: datetime
    events: list[MessageEvent]
    message_body: MessageBody
    reason_code: str | None = None
    reason: str | None = None
    scheduled_at: datetime | None = None


class MessageList(Model):
    messages: list[Message]
    pagination: Pagination


class Activity(Model):
    status: str
    timestamp: datetime
    description: str | None
    from_: str | None = Field(alias="from")
    price: str | None
    active_contact_price: str | None
    reason_code: str | None
    reason: str | None
    scheduled_at: datetime | None = None


class ActivityList(Model):
    message_id: str
    activities: list[Activity]
    pagination: Pagination


class Recipient(Model):
    message_id: str
    to: str
    channel: str | None
    body: str | None


class SendAccepted(Model):
    status: Literal["QUEUED"]
    template_id: str | None
    template_name: str | None
    recipients: list[Recipient]
    scheduled_at: datetime | None = None


# --- voice ----------------------------------------------------------------------------------


class VoiceNumber(Model):
    number: str
    status: str
    default_for_app_calls: bool
    callback_url: str | None
    created_at: datetime
    updated_at: datetime | None
    callback_secret: str | None = None  # shown when the number is enabled


class CallbackSecretRotated(Model):
    callback_secret: str


class CallbackTest(Model):
    outcome: str
    call_id: str | None
    answer: Any
    error: Any
    request: dict[str, Any] | None
    response: dict[str, Any] | None


class VoiceToken(Model):
    token: str
    identity: str
    number: str
    expires_at: datetime


class CallParty(Model):
    kind: str
    value: str | None


class Call(Model):
    id: str
    direction: str
    mode: str
    status: str
    from_: CallParty = Field(alias="from")
    to: CallParty
    number: str | None
    started_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    duration_seconds: int | None
    price: float | None
    failure_reason: str | None
    recording_available: bool
    timeline: list[dict[str, Any]] | None = None  # on a single call


class CallList(Model):
    calls: list[Call]
    pagination: Pagination


class Participant(Model):
    id: str
    kind: str
    value: str | None
    muted: bool
    duration_seconds: int


class Recording(Model):
    recording_id: str
    download_url: str
    url_expires_at: datetime


class RecordingList(Model):
    recordings: list[Recording]


# --- operations outside /v3 -----------------------------------------------------------------


class Health(Model):
    status: str
    database: dict[str, Any] | None = None


class ServerStatus(Model):
    """`version` and `components` only for the operator (`Authorization: Bearer` the status
    token); anyone else learns the status alone."""

    status: Literal["ok", "degraded"]
    version: str | None = None
    components: dict[str, Any] | None = None


class ErrorSpec(Model):
    code: str
    status: int
    message: str
    title: str
    cause: str
    remediation: list[str]
    retryable: bool
    in_catalog: bool


class ErrorCatalog(Model):
    errors: list[ErrorSpec]


class ProviderCallback(Model):
    """What a provider's callback is told: how much of it sentd recorded."""


@dataclass(frozen=True)
class Success:
    """The successful answers of one operation: status → data model (None: no body)."""

    answers: dict[int, type[BaseModel] | Any | None]
    description: str = "Success"


def ok(model: Any, status: int = 200) -> Success:
    return Success({status: model})


NO_CONTENT = Success({204: None}, "Done: no body")


def ok_or_sandbox(model: Any) -> Success:
    return Success({200: model, 202: model}, "202 in sandbox mode")


SUCCESS: dict[tuple[str, str], Success] = {
    ("get", "/healthcheck"): ok(Health),
    ("get", "/health/live"): ok(Health),
    ("get", "/health/ready"): ok(Health),
    ("get", "/status"): ok(ServerStatus),
    ("get", "/errors"): ok(ErrorCatalog),
    ("get", "/errors/{code}"): ok(ErrorSpec),
    ("get", "/v3/me"): ok(Account),
    ("get", "/v3/organizations/{organization_id}"): ok(Organization),
    ("post", "/v3/profiles"): ok(Profile, 201),
    ("get", "/v3/profiles"): ok(ProfileList),
    ("get", "/v3/profiles/{profile_id}"): ok(Profile),
    ("patch", "/v3/profiles/{profile_id}"): ok(Profile),
    ("delete", "/v3/profiles/{profile_id}"): NO_CONTENT,
    ("post", "/v3/profiles/{profile_id}/complete"): Success(
        {200: ProfileReview, 202: ProfileReview},
        "200: already approved; 202: submitted for review, or under review",
    ),
    ("get", "/v3/profiles/callback-secret"): ok(CallbackSecret),
    ("post", "/v3/profiles/callback-secret/rotate"): ok(CallbackSecret),
    ("post", "/v3/profiles/{profile_id}/campaigns"): ok(Campaign, 201),
    ("get", "/v3/profiles/{profile_id}/campaigns"): ok(list[Campaign]),
    ("put", "/v3/profiles/{profile_id}/campaigns/{campaign_id}"): ok(Campaign),
    ("delete", "/v3/profiles/{profile_id}/campaigns/{campaign_id}"): NO_CONTENT,
    ("get", "/v3/users"): ok(UserList),
    ("post", "/v3/users"): ok(User, 201),
    ("get", "/v3/users/{user_id}"): ok(User),
    ("patch", "/v3/users/{user_id}"): ok(User),
    ("delete", "/v3/users/{user_id}"): NO_CONTENT,
    ("post", "/v3/contacts"): ok(Contact, 201),
    ("get", "/v3/contacts"): ok(ContactList),
    ("get", "/v3/contacts/{contact_id}"): ok(Contact),
    ("patch", "/v3/contacts/{contact_id}"): ok(Contact),
    ("delete", "/v3/contacts/{contact_id}"): NO_CONTENT,
    ("get", "/v3/contacts/{contact_id}/message-summary"): ok(MessageSummary),
    ("post", "/v3/templates"): ok(MessageTemplate, 201),
    ("get", "/v3/templates"): ok(TemplateList),
    ("get", "/v3/templates/{template_id}"): ok(MessageTemplate),
    ("put", "/v3/templates/{template_id}"): ok(MessageTemplate),
    ("delete", "/v3/templates/{template_id}"): NO_CONTENT,
    ("get", "/v3/numbers/lookup/{phone_number}"): ok(NumberLookup),
    ("post", "/v3/webhooks"): ok(Webhook, 201),
    ("get", "/v3/webhooks"): ok(WebhookList),
    ("get", "/v3/webhooks/event-types"): ok(EventTypeList),
    ("get", "/v3/webhooks/{webhook_id}"): ok(Webhook),
    ("put", "/v3/webhooks/{webhook_id}"): ok(Webhook),
    ("delete", "/v3/webhooks/{webhook_id}"): NO_CONTENT,
    ("get", "/v3/webhooks/{webhook_id}/events"): ok(DeliveryList),
    ("post", "/v3/webhooks/{webhook_id}/rotate-secret"): ok(SigningSecret),
    ("post", "/v3/webhooks/{webhook_id}/test"): ok(WebhookTest),
    ("patch", "/v3/webhooks/{webhook_id}/toggle-status"): ok(Webhook),
    ("post", "/v3/messages"): ok(SendAccepted, 202),
    ("get", "/v3/messages"): ok(MessageList),
    ("get", "/v3/messages/{message_id}"): ok(Message),
    ("patch", "/v3/messages/{message_id}"): ok(Message),
    ("get", "/v3/messages/{message_id}/activities"): ok(ActivityList),
    ("post", "/v3/messages/{message_id}/cancel"): ok(Message),
    ("get", "/v3/conversations"): ok(MessageList),
    ("get", "/v3/conversations/{contact_id}"): ok(MessageList),
    ("get", "/v3/pricing"): ok(dict[str, Any]),
    ("post", "/v3/channels/voice"): Success(
        {200: VoiceNumber, 201: VoiceNumber, 202: VoiceNumber},
        "201: enabled; 200: already enabled, updated; 202: sandbox",
    ),
    ("get", "/v3/channels/voice"): ok(list[VoiceNumber]),
    ("get", "/v3/channels/voice/{number}"): ok(VoiceNumber),
    ("patch", "/v3/channels/voice/{number}"): ok(VoiceNumber),
    ("post", "/v3/channels/voice/{number}/rotate-secret"): ok_or_sandbox(CallbackSecretRotated),
    ("post", "/v3/channels/voice/{number}/test"): ok_or_sandbox(CallbackTest),
    ("post", "/v3/voice/tokens"): ok(VoiceToken),
    ("get", "/v3/voice/calls"): ok(CallList),
    ("get", "/v3/voice/calls/{call_id}"): ok(Call),
    ("post", "/v3/voice/calls/{call_id}/hangup"): NO_CONTENT,
    ("get", "/v3/voice/calls/{call_id}/recordings"): ok(RecordingList),
    ("post", "/v3/voice/calls/{call_id}/recordings"): NO_CONTENT,
    ("get", "/v3/voice/calls/{call_id}/participants"): ok(list[Participant]),
    ("post", "/v3/voice/calls/{call_id}/participants"): Success(
        {201: Call, 202: Call}, "201: dialled; 202: sandbox"
    ),
    ("delete", "/v3/voice/calls/{call_id}/participants"): NO_CONTENT,
    ("patch", "/v3/voice/calls/{call_id}/participants/{participant_id}"): NO_CONTENT,
    ("delete", "/v3/voice/calls/{call_id}/participants/{participant_id}"): NO_CONTENT,
}
