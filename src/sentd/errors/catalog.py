"""The error codes sentd can answer with.

Every code of the Sent API v3 error catalog is listed here, in the catalog's
order, followed by sentd's own extension codes. The code, HTTP status and
message of each catalog entry must match the published catalog exactly; the
cause and remediation text is written for sentd.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """One error code: what the client sees and how to get past it."""

    code: str
    status: int
    message: str
    title: str
    cause: str
    remediation: tuple[str, ...]
    in_catalog: bool = True
    retryable: bool = False


_SPECS: tuple[ErrorSpec, ...] = (
    # --- Authentication ---------------------------------------------------
    ErrorSpec(
        code="AUTH_001",
        status=401,
        message="User is not authenticated",
        title="Authentication",
        cause="sentd received a request without an x-api-key header, so it cannot "
        "tell who is calling.",
        remediation=(
            "Send the API key in an x-api-key header on every request.",
            "Spell the header name exactly x-api-key; proxies may drop unknown headers.",
            "Confirm your client actually reads the key from its configuration.",
        ),
    ),
    ErrorSpec(
        code="AUTH_002",
        status=401,
        message="Invalid or expired API key",
        title="Authentication",
        cause="The x-api-key value does not match any active key: it is mistyped, "
        "past its expiry, or was revoked.",
        remediation=(
            "Compare the key you send with the one you were issued, character for character.",
            "Make sure a test key is not used where a live key is expected, or vice versa.",
            "Issue a fresh key with `sentd keys create` if the old one was revoked.",
        ),
    ),
    ErrorSpec(
        code="AUTH_004",
        status=403,
        message="Insufficient permissions for this operation",
        title="Authentication",
        cause="The key is valid, but the role behind it is not allowed to perform "
        "the requested action.",
        remediation=(
            "Look up which role the key's user holds in the organization.",
            "Ask an owner or admin to grant a role that covers this action.",
            "Use a key belonging to a user with sufficient rights.",
        ),
    ),
    # --- Validation -------------------------------------------------------
    ErrorSpec(
        code="VALIDATION_001",
        status=400,
        message="Request validation failed",
        title="Validation",
        cause="One or more fields of the body, path or query string did not pass "
        "schema checks; error.details lists each offending field.",
        remediation=(
            "Read error.details: it maps every bad field to what went wrong.",
            "Supply every required field.",
            "Send values with the types the schema declares (string, number, boolean).",
        ),
    ),
    ErrorSpec(
        code="VALIDATION_002",
        status=400,
        message="Invalid phone number format",
        title="Validation",
        cause="sentd could not read the supplied phone number as an E.164 number.",
        remediation=(
            "Write numbers as a plus sign, the country code, then the subscriber digits.",
            "Strip spaces, dashes, dots and brackets before sending.",
            "Do not drop the country code, even for domestic numbers.",
        ),
    ),
    ErrorSpec(
        code="VALIDATION_003",
        status=400,
        message="Invalid GUID format",
        title="Validation",
        cause="A field or path segment that must hold a UUID contains something that is not one.",
        remediation=(
            "Send the UUID in its canonical 8-4-4-4-12 hexadecimal form.",
            "Check that the identifier was not truncated when copied.",
            "Do not send an empty string or null where an identifier is expected.",
        ),
    ),
    ErrorSpec(
        code="VALIDATION_004",
        status=400,
        message="Required field is missing",
        title="Validation",
        cause="The body lacks a field the endpoint cannot do without.",
        remediation=(
            "Compare your payload with the endpoint's list of mandatory fields.",
            "Use snake_case field names exactly as documented.",
            "Give the field a real value rather than null.",
        ),
    ),
    ErrorSpec(
        code="VALIDATION_005",
        status=400,
        message="Field value out of valid range",
        title="Validation",
        cause="A number in the request falls below the smallest or above the largest "
        "value the field accepts, or a string, list or map is longer than the field allows.",
        remediation=(
            "Look up the permitted bounds for the field named in error.details (docs/limits.md).",
            "Clamp the value into that range before sending.",
            "Do not send negative numbers to fields that only take positive ones.",
        ),
    ),
    ErrorSpec(
        code="VALIDATION_006",
        status=400,
        message="Invalid enum value",
        title="Validation",
        cause="A field limited to a fixed set of choices received a value outside that set.",
        remediation=(
            "Pick one of the values the documentation lists for the field.",
            "Match the spelling and letter case exactly.",
        ),
    ),
    ErrorSpec(
        code="VALIDATION_007",
        status=400,
        message="Invalid Idempotency-Key format",
        title="Validation",
        cause="The Idempotency-Key header is empty, too long, or contains characters "
        "sentd does not allow.",
        remediation=(
            "Build keys from letters, digits, hyphens and underscores only.",
            "Keep the key at most 255 characters long and never empty.",
            "Generate one key per logical operation, for example from a UUID.",
        ),
    ),
    # --- Resource ---------------------------------------------------------
    ErrorSpec(
        code="RESOURCE_001",
        status=404,
        message="Contact not found",
        title="Resource",
        cause="No contact with this ID is visible to the calling account.",
        remediation=(
            "Double-check the contact ID in the request.",
            "Call GET /v3/contacts to see which contacts the account can reach.",
            "Make sure the key belongs to the account that owns the contact.",
        ),
    ),
    ErrorSpec(
        code="RESOURCE_002",
        status=404,
        message="Template not found",
        title="Resource",
        cause="sentd has no template with the given ID for this account.",
        remediation=(
            "Double-check the template ID in the request.",
            "Call GET /v3/templates to list the templates that exist.",
            "If it was deleted, create it again and use the new ID.",
        ),
    ),
    ErrorSpec(
        code="RESOURCE_003",
        status=404,
        message="Message not found",
        title="Resource",
        cause="sentd holds no message with the given ID.",
        remediation=(
            "Double-check the message ID; it is assigned only once a send is accepted.",
            "Older messages may have been removed once their retention period ended.",
        ),
    ),
    ErrorSpec(
        code="RESOURCE_004",
        status=404,
        message="Customer not found",
        title="Resource",
        cause="The customer ID is unknown, or the calling key has no access to that customer.",
        remediation=(
            "Double-check the customer ID in the request.",
            "Confirm the key is scoped to this customer.",
            "Ask the server operator to check the customer record if it ought to exist.",
        ),
    ),
    ErrorSpec(
        code="RESOURCE_005",
        status=404,
        message="Organization not found",
        title="Resource",
        cause="The organization ID is unknown, or the caller is not a member of it.",
        remediation=(
            "Double-check the organization ID in the request.",
            "Call the endpoint with a key issued at organization level.",
            "Confirm your account belongs to that organization.",
        ),
    ),
    ErrorSpec(
        code="RESOURCE_006",
        status=404,
        message="User not found",
        title="Resource",
        cause="The organization has no user with this ID.",
        remediation=(
            "Double-check the user ID in the request.",
            "List the organization's users to find the right ID.",
            "The user may have left or been removed from the organization.",
        ),
    ),
    ErrorSpec(
        code="RESOURCE_007",
        status=409,
        message="Resource already exists",
        title="Resource",
        cause="A create request collided with an existing record that has the same "
        "unique attributes.",
        remediation=(
            "Fetch the existing record instead of creating a second one.",
            "Send an update to the existing record if its data needs to change.",
            "Give every distinct create operation its own idempotency key.",
        ),
    ),
    ErrorSpec(
        code="RESOURCE_008",
        status=404,
        message="Webhook not found",
        title="Resource",
        cause="No webhook with this ID is registered for the account.",
        remediation=(
            "Double-check the webhook ID in the request.",
            "Call GET /v3/webhooks to list the registered webhooks.",
            "Register the webhook again if it was removed.",
        ),
    ),
    # --- Business logic ---------------------------------------------------
    ErrorSpec(
        code="BUSINESS_001",
        status=422,
        message="Cannot modify inherited contact",
        title="Business logic",
        cause="The contact is shared down from a parent organization or profile, "
        "so this account may read it but not change it.",
        remediation=(
            "Create a contact of your own for the number and edit that one instead.",
            "Make contact changes with a key scoped to your own profile.",
        ),
    ),
    ErrorSpec(
        code="BUSINESS_002",
        status=429,
        message="Rate limit exceeded",
        title="Business logic",
        cause="The caller sent more requests in the current window than its limit allows, or "
        "one send has more messages than the plan's whole messages-per-minute window.",
        remediation=(
            "Wait the number of seconds given in the Retry-After header, then retry.",
            "Back off exponentially when this error repeats.",
            "When x-should-retry is false the request can never fit: split it into smaller sends "
            "or ask the operator for a higher limit.",
            "Subscribe to webhooks rather than polling for status changes.",
        ),
        retryable=True,
    ),
    ErrorSpec(
        code="BUSINESS_003",
        status=422,
        message="Insufficient account balance",
        title="Business logic",
        cause="The account's credit balance is lower than the cost of the requested operation.",
        remediation=(
            "Call GET /v3/me to see the current balance.",
            "Top up the account, e.g. with `sentd billing credit` on the server.",
            "Retry the operation once the balance covers its cost.",
        ),
    ),
    ErrorSpec(
        code="BUSINESS_004",
        status=422,
        message="Contact has opted out of messaging",
        title="Business logic",
        cause="The recipient has asked not to be messaged, so sentd refuses to send to them.",
        remediation=(
            "Take the contact off every list you send to.",
            "Do not retry: the opt-out stays in force until the contact opts back in.",
        ),
    ),
    ErrorSpec(
        code="BUSINESS_005",
        status=422,
        message="Template not approved for sending",
        title="Business logic",
        cause="The template is still pending or was rejected in WhatsApp review, "
        "so it cannot be used yet.",
        remediation=(
            "Check the template's status with GET /v3/templates/{id}.",
            "Wait for Meta's review to finish before sending with it.",
            "Send over SMS in the meantime if the message cannot wait.",
        ),
    ),
    ErrorSpec(
        code="BUSINESS_006",
        status=422,
        message="Message cannot be modified in current state",
        title="Business logic",
        cause="The message has moved past the point where changes are allowed, "
        "for example it was already handed to the carrier. sentd answers the same for a "
        "profile campaign already submitted to the registry.",
        remediation=(
            "Only change messages that are still QUEUED or ACCEPTED.",
            "Send a new message with the corrected content instead.",
            "For a submitted campaign: wait for the registry's decision (a rejected campaign "
            "can be edited), or delete it and create a new one.",
        ),
    ),
    ErrorSpec(
        code="BUSINESS_007",
        status=422,
        message="Channel not available for this contact",
        title="Business logic",
        cause="The channel named in the request cannot reach this phone number.",
        remediation=(
            "Fetch the contact and read its available_channels field.",
            "Choose one of the channels listed there.",
            "Leave the channel out so sentd selects a working one itself.",
        ),
    ),
    ErrorSpec(
        code="BUSINESS_008",
        status=422,
        message="Operation would exceed quota",
        title="Business logic",
        cause="Carrying out the request would push the account over one of its "
        "plan limits, such as the number of contacts or templates.",
        remediation=(
            "Review how much of each quota the account already uses.",
            "Remove resources you no longer need to free up room.",
            "Move to a plan with higher limits if you need more.",
        ),
    ),
    # --- Conflict ---------------------------------------------------------
    ErrorSpec(
        code="CONFLICT_001",
        status=409,
        message="Concurrent idempotent request in progress",
        title="Conflict",
        cause="sentd is still working on an earlier request that carried the same Idempotency-Key.",
        remediation=(
            "Wait for the first request to finish, then retry with the same key.",
            "Honour Retry-After and x-should-retry when the response carries them.",
            "Use a separate key for each distinct operation.",
        ),
        retryable=True,
    ),
    # --- Internal (catalog order: 001, 003, 002, 004, 005) -----------------
    ErrorSpec(
        code="INTERNAL_001",
        status=500,
        message="Unexpected internal server error",
        title="Internal",
        cause="sentd hit a failure it did not anticipate while handling the request.",
        remediation=(
            "Retry after a short pause; x-should-retry tells you whether that is safe.",
            "If it keeps happening, report the request_id, the time and the endpoint "
            "to the server operator.",
        ),
        retryable=True,
    ),
    ErrorSpec(
        code="INTERNAL_003",
        status=502,
        message="External service error (SMS/WhatsApp provider)",
        title="Internal",
        cause="The SMS or WhatsApp provider sentd delivers through returned an error "
        "or could not be reached.",
        remediation=(
            "Retry after a few minutes.",
            "Look up the message's status before resending, so it is not sent twice.",
            "Check the provider's status page if the problem lasts.",
        ),
        retryable=True,
    ),
    ErrorSpec(
        code="INTERNAL_002",
        status=500,
        message="Database operation failed",
        title="Internal",
        cause="A read or write against sentd's database failed while serving the request.",
        remediation=(
            "Retry after a short pause; such failures are usually short-lived.",
            "If it persists, give the server operator the request_id from the response.",
        ),
        retryable=True,
    ),
    ErrorSpec(
        code="INTERNAL_004",
        status=504,
        message="Timeout waiting for operation",
        title="Internal",
        cause="sentd gave up waiting on an upstream provider or on its own background work "
        "before the operation finished.",
        remediation=(
            "Check the resource's status first: the operation may still complete.",
            "Retry with the same Idempotency-Key so it cannot run twice.",
            "Report repeated timeouts to the server operator.",
        ),
        retryable=True,
    ),
    ErrorSpec(
        code="INTERNAL_005",
        status=503,
        message="Service temporarily unavailable",
        title="Internal",
        cause="sentd is overloaded, starting up, or down for maintenance and is "
        "turning requests away for now.",
        remediation=(
            "Wait the time given in Retry-After, if present, then retry.",
            "Keep retrying with exponential backoff until the service is back.",
        ),
        retryable=True,
    ),
    # --- sentd extensions (not in the published catalog) --------------------
    ErrorSpec(
        code="ROUTE_NOT_FOUND",
        status=404,
        message="Route not found",
        title="Routing",
        cause="No sentd endpoint matches the requested path.",
        remediation=(
            "Check the path for typos and make sure it begins with /v3/.",
            "Compare it with the endpoints listed in the API reference.",
        ),
        in_catalog=False,
    ),
    ErrorSpec(
        code="METHOD_NOT_ALLOWED",
        status=405,
        message="Method not allowed for this route",
        title="Routing",
        cause="The path exists, but not for the HTTP method used in the request.",
        remediation=(
            "Look up which HTTP methods the API reference lists for this path.",
            "Resend the request with one of those methods.",
        ),
        in_catalog=False,
    ),
    # --- sentd extensions: templates ------------------------------------------
    ErrorSpec(
        code="CONFLICT_006",
        status=409,
        message="Template cannot be changed while under review",
        title="Conflict",
        cause="The template is PENDING: a reviewer has it, so its definition, category and "
        "language stay as submitted and it cannot be submitted again until the verdict.",
        remediation=(
            "Wait for the verdict (GET /v3/templates/{id} shows the status), then edit it.",
            "Change only the name meanwhile: the name stays editable during review.",
        ),
        in_catalog=False,
    ),
    ErrorSpec(
        code="TEMPLATE_001",
        status=422,
        message="Cannot modify inherited template",
        title="Templates",
        cause="The template belongs to the organization and reaches the sender profile through "
        "inherit_templates; the profile may send with it but not change or delete it.",
        remediation=(
            "Change the template with an organization key, without x-profile-id.",
            "Or create a template of the profile's own and use that one instead.",
        ),
        in_catalog=False,
    ),
    # --- sentd extensions: provider webhooks ----------------------------------
    ErrorSpec(
        code="PROVIDER_001",
        status=401,
        message="Invalid provider webhook signature",
        title="Providers",
        cause="A request to a provider webhook (such as /providers/whatsapp/webhook) carried no "
        "signature, a wrong one, or sentd has no secret configured to check it against.",
        remediation=(
            "Set the app secret sentd checks with (SENTD_WHATSAPP_APP_SECRET for WhatsApp).",
            "Make sure the provider signs with that same secret and the body is passed unchanged.",
        ),
        in_catalog=False,
    ),
    ErrorSpec(
        code="PROVIDER_002",
        status=403,
        message="Provider webhook verification failed",
        title="Providers",
        cause="A provider's subscription handshake named a verify token that does not match the "
        "one sentd is configured with, or none is configured.",
        remediation=(
            "Give the provider the token set in SENTD_WHATSAPP_VERIFY_TOKEN.",
            "Check that the handshake asks for hub.mode=subscribe.",
        ),
        in_catalog=False,
    ),
    # --- sentd extensions: accounts (users of an organization) ----------------
    ErrorSpec(
        code="ACCOUNT_001",
        status=422,
        message="Cannot remove or change your own membership",
        title="Accounts",
        cause="The request would remove the calling key's own user from the organization "
        "or change that user's role; sentd never lets a user act on their own membership.",
        remediation=(
            "Ask another owner or admin of the organization to make the change.",
            "Check that the user id in the path is not the id of the key's own user.",
        ),
        in_catalog=False,
    ),
    ErrorSpec(
        code="ACCOUNT_002",
        status=422,
        message="Cannot remove or demote the last admin",
        title="Accounts",
        cause="The user is the organization's only active admin; removing them or giving "
        "them another role would leave the organization without one.",
        remediation=(
            "Invite another user as admin, or promote an existing user, first.",
            "Once a second admin is active, remove or demote this one.",
        ),
        in_catalog=False,
    ),
    ErrorSpec(
        code="ACCOUNT_003",
        status=403,
        message="Organization is suspended",
        title="Accounts",
        cause="The server's operator suspended the organization (or the organization that owns "
        "this profile). Its data is kept, but its keys cannot call the API until it is resumed.",
        remediation=(
            "Ask the operator of this sentd server why the organization was suspended.",
            "Once the operator runs `sentd orgs resume`, the same keys work again.",
        ),
        in_catalog=False,
    ),
    # --- sentd extensions: request framing ------------------------------------
    ErrorSpec(
        code="REQUEST_001",
        status=413,
        message="Request body too large",
        title="Requests",
        cause="The request body is larger than the server accepts (SENTD_MAX_BODY_BYTES, 1 MB "
        "by default). sentd stops reading at the limit and stores nothing.",
        remediation=(
            "Split the work into smaller requests, e.g. at most 1,000 recipients per send.",
            "Ask the operator to raise SENTD_MAX_BODY_BYTES if large bodies are expected.",
        ),
        in_catalog=False,
    ),
    ErrorSpec(
        code="REQUEST_002",
        status=408,
        message="Request body not received in time",
        title="Requests",
        cause="The client announced a body but did not finish sending it within the server's "
        "body timeout (SENTD_BODY_TIMEOUT_S). Nothing was processed.",
        remediation=(
            "Check the network between the client and sentd, then send the request again.",
            "Send the whole body promptly after the headers; do not stream it slowly.",
        ),
        retryable=True,
        in_catalog=False,
    ),
    # --- sentd extensions: idempotency -----------------------------------------
    ErrorSpec(
        code="IDEMPOTENCY_001",
        status=422,
        message="Idempotency key was used for a different operation",
        title="Idempotency",
        cause="An earlier request with the same Idempotency-Key was a different operation "
        "(another method or route). A key names one operation, so sentd neither replays that "
        "operation's answer nor performs this one.",
        remediation=(
            "Generate a fresh Idempotency-Key for every distinct operation.",
            "Reuse a key only to retry exactly the same request.",
        ),
        in_catalog=False,
    ),
    # --- sentd extensions: providers --------------------------------------------
    ErrorSpec(
        code="PROVIDER_003",
        status=422,
        message="No live provider is configured for this channel",
        title="Providers",
        cause="A live key asked to send on a channel for which the server's operator configured "
        "no provider (SENTD_SMS_PROVIDER, SENTD_MMS_PROVIDER, SENTD_WHATSAPP_PROVIDER, "
        "SENTD_RCS_PROVIDER). sentd never simulates live traffic unless told to, so it refused "
        "the send before writing or charging anything.",
        remediation=(
            "Use a test key (sk_test_…) to try sentd with the built-in simulator.",
            "Ask the operator to configure a provider for the channel, or to set the channel's "
            "provider to `simulator` explicitly for a demo.",
        ),
        in_catalog=False,
    ),
    # --- sentd extensions: voice ---------------------------------------------------
    ErrorSpec(
        code="VOICE_001",
        status=404,
        message="Voice number not found",
        title="Voice",
        cause="The number in the request is not one the acting account turned voice on for in "
        "this mode (or, where a default is implied, the account has no active default line).",
        remediation=(
            "List your voice numbers with GET /v3/channels/voice.",
            "Turn voice on for the number with POST /v3/channels/voice first.",
        ),
        in_catalog=False,
    ),
    ErrorSpec(
        code="VOICE_002",
        status=404,
        message="Call not found",
        title="Voice",
        cause="No call (or conference participant, whose id is a call id) with this id belongs "
        "to the acting account in this mode.",
        remediation=(
            "Check the id against GET /v3/voice/calls.",
            "Use a key of the same mode (live or test) the call was placed with.",
        ),
        in_catalog=False,
    ),
    ErrorSpec(
        code="VOICE_003",
        status=409,
        message="Call cannot be changed in its current state",
        title="Voice",
        cause="The call has already ended, has no phone leg (a call between two app users), or "
        "is not in a conference room, so the command does not apply to it.",
        remediation=(
            "Read the call with GET /v3/voice/calls/{id} and check its status.",
            "Conference commands need a call your answer connected to a conference.",
        ),
        in_catalog=False,
    ),
    ErrorSpec(
        code="VOICE_004",
        status=409,
        message="The default voice line cannot be turned off while other lines are active",
        title="Voice",
        cause="The number is the default line for app-originated calls and other voice numbers "
        "of the account are still active; an account with active lines always has one default.",
        remediation=(
            "Give the role to another number with default_for_app_calls: true first.",
            "Then turn this number off.",
        ),
        in_catalog=False,
    ),
)

CATALOG: dict[str, ErrorSpec] = {spec.code: spec for spec in _SPECS}
"""All known error specs keyed by code: catalog order first, extensions last."""


def get_spec(code: str) -> ErrorSpec:
    """Return the spec for ``code``; raise ``KeyError`` if it is unknown."""
    try:
        return CATALOG[code]
    except KeyError:
        raise KeyError(f"unknown error code: {code!r}") from None
