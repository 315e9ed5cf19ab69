"""Settings, read from `SENTD_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SENTD_", extra="ignore")

    # Storage. With no database_url sentd runs an embedded PostgreSQL under data_dir.
    database_url: str | None = None
    data_dir: Path = Path("./var")
    db_pool_min_size: int = Field(default=2, ge=0)
    db_pool_max_size: int = Field(default=10, ge=1)
    db_connect_timeout_s: float = Field(default=5.0, gt=0)
    # Load shedding: a request that cannot get a pooled connection within this bound answers
    # 503 INTERNAL_005 instead of queueing; nor may more than max_in_flight run at once.
    db_acquire_timeout_s: float = Field(default=2.0, gt=0)
    max_in_flight: int = Field(default=512, ge=1)
    # Request bodies: larger ones answer 413 REQUEST_001 (a Content-Length over the limit at once,
    # a chunked body as soon as it passes it); one not fully received within body_timeout_s
    # answers 408 REQUEST_002. Neither counts against max_in_flight while it arrives.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    body_timeout_s: float = Field(default=10.0, gt=0)
    db_statement_timeout_ms: int = Field(default=10_000, ge=0)

    redis_url: str | None = None
    limits_namespace: str = "sentd"  # prefix of rate-limit keys in the shared storage
    # Every Redis call of the rate limits and the auth throttle gives up after this; then a
    # circuit breaker lets them fail open without touching Redis for the cool-down.
    redis_timeout_ms: int = Field(default=200, ge=1)
    redis_breaker_cooldown_s: float = Field(default=5.0, gt=0)

    # HTTP.
    host: str = "127.0.0.1"
    port: int = 8000
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated addresses
    # or networks, "*" for any). None by default, loopback included: set it behind a proxy.
    forwarded_allow_ips: str = ""
    public_url: str | None = None  # base of doc_url links; see public_hosts when unset
    # Without public_url: Host header values believed when building doc_url (else the address
    # the request arrived on is used; an arbitrary Host header never is).
    public_hosts: list[str] = []
    # Bearer token that unlocks the details of /status; without it /status answers liveness only.
    status_token: str | None = None
    request_timeout: float = Field(default=30.0, gt=0)  # server-side deadline → 504
    maintenance_retry_after_s: int = Field(default=30, ge=1)

    # Idempotency records: kept this long; an in-flight record whose process died may be taken
    # over after the lease (longer than any request may run).
    idempotency_ttl_s: int = Field(default=24 * 3600, ge=60)
    idempotency_lease_s: float = Field(default=60.0, gt=0)

    # Request rates per organization and mode: standard routes and sensitive ones.
    rate_standard_per_minute: int = Field(default=200, ge=1)
    rate_standard_burst: int = Field(default=50, ge=1)
    rate_sensitive_per_minute: int = Field(default=10, ge=1)
    rate_sensitive_burst: int = Field(default=5, ge=1)

    # Authentication.
    auth_cache_ttl_s: float = Field(default=5.0, ge=0)
    auth_failure_limit: str = "20/minute"  # failed authentications per presented key
    auth_failure_address_limit: str = "100/minute"  # distinct failing keys per client address

    # Number lookup: "auto" asks configured providers first and falls back to offline data;
    # "provider" answers only from a provider (502 INTERNAL_003 when none can).
    lookup_mode: Literal["auto", "provider"] = "auto"

    # Outbound calls to customer URLs (webhooks, review callbacks).
    webhook_allow_private: bool = False  # allow private/loopback destinations (local testing)
    webhook_retry_base_s: float = Field(default=60.0, gt=0)  # first retry after about this
    webhook_retry_cap_s: float = Field(default=3600.0, gt=0)  # longest wait between attempts
    webhook_lease_s: float = Field(default=300.0, gt=0)  # a claimed batch's lease
    webhook_max_in_flight: int = Field(default=16, ge=1)  # one webhook's requests at once

    # Reviews of sender profiles and their campaigns (and templates): "simulator" decides by
    # itself after template_review_delay_s; "manual" waits for `sentd profiles review` and
    # `sentd profiles campaigns review`.
    profile_review_backend: Literal["simulator", "manual"] = "simulator"
    template_review_backend: Literal["simulator", "whatsapp", "manual"] = "simulator"
    template_review_delay_s: float = Field(default=2.0, ge=0)

    # Messaging providers per channel for live mode (test mode always uses the simulator).
    # "none" (the default): live sends on the channel are refused with 422 PROVIDER_003, so live
    # traffic is never simulated unless an operator sets "simulator" explicitly.
    sms_provider: Literal["simulator", "twilio", "none"] = "none"
    mms_provider: Literal["simulator", "twilio", "none"] = "none"
    whatsapp_provider: Literal["simulator", "whatsapp", "none"] = "none"
    rcs_provider: Literal["simulator", "none"] = "none"
    simulator_latency_ms: int = Field(default=500, ge=0)  # between simulated lifecycle steps
    dispatch_retry_base_s: float = Field(default=5.0, gt=0)  # provider retries: first wait
    dispatch_retry_cap_s: float = Field(default=300.0, gt=0)
    dispatch_max_attempts: int = Field(default=6, ge=1)
    dispatch_lease_s: float = Field(default=60.0, gt=0)
    # How many messages the dispatcher, and how many webhook deliveries the delivery loop, handle
    # at once in one process (`sentd worker --concurrency M` overrides it).
    worker_concurrency: int = Field(default=32, ge=1)
    # On SIGTERM, how long running worker ticks may take to finish what they started (they start
    # nothing new and release unstarted claims at once); then they are cancelled.
    worker_shutdown_grace_s: float = Field(default=10.0, ge=0)
    pricing_file: Path | None = None  # overrides the shipped price list

    # Inbound keywords (the whole trimmed message, any case) that change a contact's consent.
    opt_out_keywords: list[str] = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]
    opt_in_keywords: list[str] = ["START", "UNSTOP", "YES"]
    help_keywords: list[str] = ["HELP", "INFO"]

    # Twilio (SMS/MMS). Status callbacks and inbound messages come to
    # {SENTD_PUBLIC_URL}/providers/twilio/status and /providers/twilio/inbound.
    twilio_api_base: str = "https://api.twilio.com"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None

    # Voice. Live voice numbers and calls go through voice_provider (test mode always uses the
    # simulator); a question to a number's callback URL waits voice_callback_timeout_s for the
    # answer; recording links (served by sentd, signed) stay valid voice_recording_url_ttl_s.
    voice_provider: Literal["simulator", "twilio", "none"] = "none"
    voice_callback_timeout_s: float = Field(default=5.0, gt=0)
    voice_recording_url_ttl_s: int = Field(default=3600, ge=60)
    # The simulator's calls: they ring simulator_latency_ms, then last this long unless ended.
    voice_simulator_call_s: float = Field(default=20.0, gt=0)
    # Twilio Voice access tokens for app users (POST /v3/voice/tokens with a live key): an API
    # key of the account and the TwiML app whose voice URL points at sentd.
    twilio_api_key_sid: str | None = None
    twilio_api_key_secret: str | None = None
    twilio_twiml_app_sid: str | None = None

    # WhatsApp Cloud API (template review; a profile's own WhatsApp account takes precedence).
    whatsapp_api_base: str = "https://graph.facebook.com/v21.0"
    whatsapp_access_token: str | None = None
    whatsapp_waba_id: str | None = None
    whatsapp_phone_number_id: str | None = None  # the sending number of messages
    whatsapp_app_secret: str | None = None  # verifies X-Hub-Signature-256 of Meta's webhooks
    whatsapp_verify_token: str | None = None  # answers Meta's GET verification handshake

    # Retention (days; 0 keeps forever): the janitor deletes older rows in bounded batches.
    # Webhook deliveries go with their events once final; a message goes (with its status
    # events) once it can no longer change. Ledger entries are never deleted.
    retention_webhook_attempts_days: int = Field(default=30, ge=0)
    retention_events_days: int = Field(default=30, ge=0)
    retention_message_events_days: int = Field(default=400, ge=0)
    retention_messages_days: int = Field(default=400, ge=0)
    retention_early_receipts_days: int = Field(default=7, ge=0)
    retention_batch_size: int = Field(default=1000, ge=1)

    # Invitations: "console" logs the invitation link instead of sending mail.
    mail_backend: Literal["console"] = "console"

    # The dashboard (/dashboard; docs/dashboard.md). Its session cookie is Secure when the
    # request came over https (behind a trusted proxy: X-Forwarded-Proto) under "auto".
    dashboard_enabled: bool = True
    dashboard_cookie_secure: Literal["auto", "always", "never"] = "auto"
    dashboard_session_ttl_s: int = Field(default=12 * 3600, ge=60)
    # Failed sign-ins of one email allowed within the window before sign-in is refused.
    dashboard_signin_failures: int = Field(default=5, ge=1)
    dashboard_signin_window_s: int = Field(default=900, ge=1)

    # Demo organization created by `sentd init`.
    demo_balance: str = "25.00"
    currency: str = "USD"

    log_level: str = "INFO"
    access_log: bool = True  # one INFO line per request (logger sentd.access)
    # /metrics (Prometheus) answers only with `Authorization: Bearer <this token>`; unset: off.
    metrics_token: str | None = None
    # "json" (one object per line), "console" (readable lines) or "auto": console when stderr is
    # a terminal, JSON otherwise. Under "auto" an explicit SENTD_LOG_JSON still decides.
    log_format: Literal["auto", "json", "console"] = "auto"
    log_json: bool = True

    @property
    def request_rates(self) -> dict[str, int]:
        return {
            "requests_per_minute": self.rate_standard_per_minute,
            "requests_burst": self.rate_standard_burst,
            "sensitive_per_minute": self.rate_sensitive_per_minute,
            "sensitive_burst": self.rate_sensitive_burst,
        }

    @property
    def embedded(self) -> bool:
        return not self.database_url

    def live_provider(self, channel: str) -> str:
        """The provider chosen for a channel's live sends (`SENTD_<CHANNEL>_PROVIDER`); "none"
        for a channel without such a setting."""
        chosen: dict[str, str] = {
            "sms": self.sms_provider,
            "mms": self.mms_provider,
            "whatsapp": self.whatsapp_provider,
            "rcs": self.rcs_provider,
        }
        return chosen.get(channel, "none")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
