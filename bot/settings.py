"""Every knob of Tsunagari, read from the environment (and an optional `.env`)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONTENT_DIR = REPO_ROOT / "content"
DEFAULT_SQLITE_PATH = REPO_ROOT / "var" / "tsunagari.db"
LINE_API_HOST = "https://api.line.me"
LINE_DATA_API_HOST = "https://api-data.line.me"
# Secrets we own must be at least this long in production (32 random characters).
MIN_SECRET_LENGTH = 32
# Values published in this repository (defaults, examples, the demo): never a production secret.
KNOWN_SECRETS = frozenset(
    {
        "dev-only-change-me",
        "tsunagari-dev-salt",
        "dev-only-survey-secret",
        "demo-channel-secret-not-for-line",
        "demo-channel-access-token-not-for-line",
        "changethis",
        "change-me",
        "changeme",
        "secret",
    }
)


def is_line_host(url: str) -> bool:
    """True when `url` reaches LINE (`line.me` or a subdomain, any case, port or trailing dot)."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return host == "line.me" or host.endswith(".line.me")


def is_loopback_host(host: str) -> bool:
    """True for `localhost` (and `*.localhost`) and loopback addresses (127.0.0.0/8, ::1)."""
    host = host.lower().rstrip(".").strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    """True when `url`'s host is this machine."""
    return is_loopback_host(urlsplit(url).hostname or "")


class Settings(BaseSettings):
    """Runtime configuration; built explicitly (never at import) so tests pass their own."""

    model_config = SettingsConfigDict(
        env_file=".env", env_ignore_empty=True, extra="ignore", populate_by_name=True
    )

    line_channel_secret: SecretStr = Field(
        default=SecretStr(""), validation_alias="LINE_CHANNEL_SECRET"
    )
    line_channel_access_token: SecretStr = Field(
        default=SecretStr(""), validation_alias="LINE_CHANNEL_ACCESS_TOKEN"
    )
    line_api_base_url: str = Field(default=LINE_API_HOST, validation_alias="LINE_API_BASE_URL")
    line_data_api_base_url: str = Field(
        default=LINE_DATA_API_HOST, validation_alias="LINE_DATA_API_BASE_URL"
    )
    line_timeout_s: float = Field(default=10.0, gt=0, validation_alias="LINE_TIMEOUT_SECONDS")
    line_max_attempts: int = Field(default=5, ge=1, validation_alias="LINE_MAX_ATTEMPTS")
    line_backoff_base_s: float = Field(
        default=0.5, ge=0, validation_alias="LINE_BACKOFF_BASE_SECONDS"
    )
    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_SQLITE_PATH}", validation_alias="DATABASE_URL"
    )
    timezone: str = Field(default="Asia/Tokyo", validation_alias="TSUNAGARI_TIMEZONE")
    default_locale: Literal["ja", "en", "ja-easy"] = Field(
        default="ja", validation_alias="TSUNAGARI_DEFAULT_LOCALE"
    )
    content_dir: Path = Field(default=DEFAULT_CONTENT_DIR, validation_alias="TSUNAGARI_CONTENT_DIR")
    conversation_ttl_minutes: int = Field(
        default=30, ge=1, validation_alias="TSUNAGARI_CONVERSATION_TTL_MINUTES"
    )
    processor_lanes: int = Field(default=32, ge=1, le=256, validation_alias="TSUNAGARI_LANES")
    event_lease_seconds: float = Field(
        default=30.0, ge=0, validation_alias="TSUNAGARI_EVENT_LEASE_SECONDS"
    )
    process_events: bool = Field(default=True, validation_alias="TSUNAGARI_PROCESS_EVENTS")
    # `process`: `serve` starts `tsunagari worker` beside it for processing, sending and
    # scheduling, so acknowledgements never wait for a handler; `inline`: all in one process.
    worker: Literal["process", "inline"] = Field(
        default="process", validation_alias="TSUNAGARI_WORKER"
    )
    # `serve` keeps a spare worker started up beside its worker, to take over at once if the
    # worker dies (a second process's memory; no CPU while it waits).
    worker_standby: bool = Field(default=True, validation_alias="TSUNAGARI_WORKER_STANDBY")
    # How often a worker on SQLite looks for events another process stored (PostgreSQL
    # wakes it with NOTIFY instead).
    inbox_poll_seconds: float = Field(
        default=0.05, gt=0, validation_alias="TSUNAGARI_INBOX_POLL_SECONDS"
    )
    auto_migrate: bool = Field(default=True, validation_alias="TSUNAGARI_AUTO_MIGRATE")
    run_scheduler: bool = Field(default=True, validation_alias="TSUNAGARI_RUN_SCHEDULER")
    run_sender: bool = Field(default=True, validation_alias="TSUNAGARI_RUN_SENDER")
    simulator_enabled: bool = Field(default=False, validation_alias="TSUNAGARI_SIMULATOR")
    public_base_url: str = Field(
        default="http://127.0.0.1:8000", validation_alias="TSUNAGARI_PUBLIC_BASE_URL"
    )
    line_bot_basic_id: str = Field(default="@tsunagari", validation_alias="LINE_BOT_BASIC_ID")
    staff_session_secret: SecretStr = Field(
        default=SecretStr("dev-only-change-me"), validation_alias="TSUNAGARI_SESSION_SECRET"
    )
    environment: Literal["dev", "test", "prod"] = Field(
        default="dev", validation_alias="TSUNAGARI_ENV"
    )
    # Staff web sessions: ended after this long without a page, and this long after log-in
    # whatever happens (the cookie's signature is refreshed on each page, the log-in time not).
    session_idle_minutes: int = Field(
        default=120, ge=1, le=24 * 60, validation_alias="TSUNAGARI_SESSION_IDLE_MINUTES"
    )
    session_max_hours: int = Field(
        default=12, ge=1, le=24 * 7, validation_alias="TSUNAGARI_SESSION_MAX_HOURS"
    )
    # Proxies whose X-Forwarded-For/-Proto uvicorn believes (comma-separated addresses or
    # networks, "*" for any): the Compose load balancer, so log-in limits see real clients.
    forwarded_allow_ips: str = Field(
        default="127.0.0.1", validation_alias="TSUNAGARI_FORWARDED_ALLOW_IPS"
    )
    # Largest request body accepted on any route (the webhook's is checked before reading).
    max_body_bytes: int = Field(
        default=2 * 1024 * 1024, ge=1024, validation_alias="TSUNAGARI_MAX_BODY_BYTES"
    )
    webhook_max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, validation_alias="TSUNAGARI_WEBHOOK_MAX_BODY_BYTES"
    )
    # Bearer token Prometheus sends to /metrics; without it only this machine may read them.
    metrics_token: SecretStr = Field(
        default=SecretStr(""), validation_alias="TSUNAGARI_METRICS_TOKEN"
    )
    log_format: Literal["json", "text"] = Field(default="json", validation_alias="LOG_FORMAT")
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    pseudonym_salt: SecretStr = Field(
        default=SecretStr("tsunagari-dev-salt"), validation_alias="TSUNAGARI_PSEUDONYM_SALT"
    )
    # Delivery outbox sender (bot/delivery). Rates are per sender process: with N senders
    # on one channel, divide LINE's limits (multicast 200/s, push 2,000/s) by N.
    delivery_multicast_rate: float = Field(
        default=200.0, gt=0, validation_alias="TSUNAGARI_DELIVERY_MULTICAST_RATE"
    )
    delivery_push_rate: float = Field(
        default=2000.0, gt=0, validation_alias="TSUNAGARI_DELIVERY_PUSH_RATE"
    )
    # Calls the bucket may let through at once: a little slack so that a late wake-up of
    # the event loop is made up for instead of lost (10 = 50 ms of multicast at 200/s).
    delivery_rate_burst: float = Field(
        default=10.0, ge=1, validation_alias="TSUNAGARI_DELIVERY_RATE_BURST"
    )
    # Batches a sender holds at once: those on the wire (rate × a call's time: 200/s ×
    # ~150 ms from Japan), those waiting for the rate limit and those being recorded. Fewer
    # than 64 left the wire idle while the next claim read its recipients (bench_delivery).
    delivery_concurrency: int = Field(
        default=64, ge=1, le=128, validation_alias="TSUNAGARI_DELIVERY_CONCURRENCY"
    )
    delivery_lease_seconds: float = Field(
        default=120.0, ge=0, validation_alias="TSUNAGARI_DELIVERY_LEASE_SECONDS"
    )
    delivery_max_attempts: int = Field(
        default=8, ge=1, validation_alias="TSUNAGARI_DELIVERY_MAX_ATTEMPTS"
    )
    delivery_retry_base_seconds: float = Field(
        default=30.0, ge=0, validation_alias="TSUNAGARI_DELIVERY_RETRY_BASE_SECONDS"
    )
    delivery_poll_seconds: float = Field(
        default=1.0, gt=0, validation_alias="TSUNAGARI_DELIVERY_POLL_SECONDS"
    )
    # Scheduler (bot/scheduler) and the send policy (bot/platform/delivery/send_policy.py).
    scheduler_poll_seconds: float = Field(
        default=60.0, gt=0, validation_alias="TSUNAGARI_SCHEDULER_POLL_SECONDS"
    )
    scheduler_lease_retry_seconds: float = Field(
        default=15.0, gt=0, le=50, validation_alias="TSUNAGARI_SCHEDULER_LEASE_RETRY_SECONDS"
    )
    quiet_hours_start: str = Field(default="21:00", validation_alias="TSUNAGARI_QUIET_HOURS_START")
    quiet_hours_end: str = Field(default="08:00", validation_alias="TSUNAGARI_QUIET_HOURS_END")
    quiet_spread_minutes: int = Field(
        default=30, ge=0, le=240, validation_alias="TSUNAGARI_QUIET_SPREAD_MINUTES"
    )
    weekly_push_budget: int = Field(
        default=3, ge=1, validation_alias="TSUNAGARI_WEEKLY_PUSH_BUDGET"
    )
    quota_warn_share: float = Field(
        default=0.8, gt=0, le=1, validation_alias="TSUNAGARI_QUOTA_WARN_SHARE"
    )
    quota_hold_share: float = Field(
        default=0.95, gt=0, le=1, validation_alias="TSUNAGARI_QUOTA_HOLD_SHARE"
    )
    quota_refresh_minutes: int = Field(
        default=15, ge=1, validation_alias="TSUNAGARI_QUOTA_REFRESH_MINUTES"
    )
    survey_min_cell: int = Field(default=10, ge=1, validation_alias="TSUNAGARI_SURVEY_MIN_CELL")
    survey_token_secret: SecretStr = Field(
        default=SecretStr("dev-only-survey-secret"), validation_alias="TSUNAGARI_SURVEY_SECRET"
    )
    webhook_retention_days: int = Field(
        default=7, ge=1, validation_alias="TSUNAGARI_WEBHOOK_RETENTION_DAYS"
    )
    survey_invite_retention_days: int = Field(
        default=90, ge=1, validation_alias="TSUNAGARI_SURVEY_INVITE_RETENTION_DAYS"
    )
    retention_purge_at: str = Field(default="03:30", validation_alias="TSUNAGARI_PURGE_AT")
    # The officers' daily digest (bot/features/membership/messages.py): local time it goes
    # out, covering the day since the previous one; in quiet hours it waits for their end.
    officer_digest_at: str = Field(default="19:00", validation_alias="TSUNAGARI_OFFICER_DIGEST_AT")
    # Joining (bot/flows/join*.py, bot/features/membership/memberships.py, erasure.py, richmenu.py).
    unfollow_retention_days: float = Field(
        default=30.0, ge=0, validation_alias="TSUNAGARI_UNFOLLOW_RETENTION_DAYS"
    )
    pending_reminder_days: float = Field(
        default=3.0, gt=0, validation_alias="TSUNAGARI_PENDING_REMINDER_DAYS"
    )
    join_invite_interval_days: float = Field(
        default=30.0, gt=0, validation_alias="TSUNAGARI_JOIN_INVITE_INTERVAL_DAYS"
    )
    line_liff_id: str = Field(default="", validation_alias="LINE_LIFF_ID")
    richmenu_font: str = Field(default="", validation_alias="TSUNAGARI_RICHMENU_FONT")
    # Events and RSVPs (bot/features/events/rsvp.py): how long a freed place is held for the first
    # on the waitlist before it goes to the next.
    rsvp_offer_hours: float = Field(
        default=12.0, gt=0, le=168, validation_alias="TSUNAGARI_RSVP_OFFER_HOURS"
    )
    # Volunteering (bot/features/volunteers/matching.py, volunteers.py): ranking weights, how
    # many are asked per open place, how long an ask waits, and what a shift earns.
    volunteer_weight_interest: float = Field(
        default=3.0, ge=0, validation_alias="TSUNAGARI_VOLUNTEER_WEIGHT_INTEREST"
    )
    volunteer_weight_skill: float = Field(
        default=2.0, ge=0, validation_alias="TSUNAGARI_VOLUNTEER_WEIGHT_SKILL"
    )
    volunteer_weight_distance: float = Field(
        default=1.0, ge=0, validation_alias="TSUNAGARI_VOLUNTEER_WEIGHT_DISTANCE"
    )
    volunteer_weight_rest: float = Field(
        default=4.0, ge=0, validation_alias="TSUNAGARI_VOLUNTEER_WEIGHT_REST"
    )
    volunteer_weight_load: float = Field(
        default=3.0, ge=0, validation_alias="TSUNAGARI_VOLUNTEER_WEIGHT_LOAD"
    )
    volunteer_rest_full_days: float = Field(
        default=60.0, gt=0, validation_alias="TSUNAGARI_VOLUNTEER_REST_FULL_DAYS"
    )
    volunteer_candidate_pool: int = Field(
        default=50, ge=1, le=1000, validation_alias="TSUNAGARI_VOLUNTEER_CANDIDATE_POOL"
    )
    volunteer_offers_per_place: int = Field(
        default=2, ge=1, le=10, validation_alias="TSUNAGARI_VOLUNTEER_OFFERS_PER_PLACE"
    )
    volunteer_offer_hours: float = Field(
        default=24.0, gt=0, le=168, validation_alias="TSUNAGARI_VOLUNTEER_OFFER_HOURS"
    )
    volunteer_reminder_hours: float = Field(
        default=24.0, gt=0, le=168, validation_alias="TSUNAGARI_VOLUNTEER_REMINDER_HOURS"
    )
    volunteer_grace_hours: float = Field(
        default=72.0, gt=0, validation_alias="TSUNAGARI_VOLUNTEER_GRACE_HOURS"
    )
    volunteer_points_per_hour: int = Field(
        default=10, ge=0, validation_alias="TSUNAGARI_VOLUNTEER_POINTS_PER_HOUR"
    )
    # A shift given back this close to its start is still let go, but the organiser is told.
    volunteer_late_cancel_hours: float = Field(
        default=24.0, ge=0, le=168, validation_alias="TSUNAGARI_VOLUNTEER_LATE_CANCEL_HOURS"
    )

    @field_validator(
        "quiet_hours_start", "quiet_hours_end", "retention_purge_at", "officer_digest_at"
    )
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        hours, _, minutes = value.partition(":")
        if not (
            hours.isdigit()
            and minutes.isdigit()
            and len(minutes) == 2
            and 0 <= int(hours) <= 23
            and 0 <= int(minutes) <= 59
        ):
            raise ValueError("must be a time of day as HH:MM")
        return f"{int(hours):02d}:{minutes}"

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        """Accept the `postgres://` spelling hosting providers hand out."""
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        if not value.startswith(("sqlite:", "postgresql+psycopg:")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("line_api_base_url", "line_data_api_base_url", "public_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @property
    def tz(self) -> ZoneInfo:
        """The city's time zone, in which residents read every time."""
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        """True when the embedded SQLite database is in use."""
        return self.database_url.startswith("sqlite")

    @property
    def talks_to_real_line(self) -> bool:
        """True when requests would reach LINE's own hosts (by parsed hostname)."""
        return is_line_host(self.line_api_base_url) or is_line_host(self.line_data_api_base_url)

    @property
    def is_production(self) -> bool:
        """Decided by what is configured, not only by TSUNAGARI_ENV: anything that talks to
        LINE's hosts or is reachable at a non-local address is production. Development
        defaults run only when LINE and the public URL are all on this machine."""
        return (
            self.environment == "prod"
            or self.talks_to_real_line
            or not all(
                is_loopback_url(url)
                for url in (
                    self.line_api_base_url,
                    self.line_data_api_base_url,
                    self.public_base_url,
                )
            )
        )

    def require_safe_for_production(self) -> None:
        """In production, refuse to start unless every secret is set, long and not a
        published default; the simulator never runs there. One line names the setting."""
        if not self.is_production:
            return
        if self.simulator_enabled:
            raise SettingsError(
                "TSUNAGARI_SIMULATOR must be false in production "
                "(LINE or the public URL is not on this machine)"
            )
        for alias, value in (
            ("LINE_CHANNEL_SECRET", self.line_channel_secret),
            ("LINE_CHANNEL_ACCESS_TOKEN", self.line_channel_access_token),
        ):
            secret = value.get_secret_value()
            if not secret or secret.lower() in KNOWN_SECRETS:
                raise SettingsError(f"{alias} must be set to the channel's own value in production")
        owned = [
            ("TSUNAGARI_SESSION_SECRET", self.staff_session_secret.get_secret_value()),
            ("TSUNAGARI_SURVEY_SECRET", self.survey_token_secret.get_secret_value()),
            ("TSUNAGARI_PSEUDONYM_SALT", self.pseudonym_salt.get_secret_value()),
        ]
        if self.metrics_token.get_secret_value():
            owned.append(("TSUNAGARI_METRICS_TOKEN", self.metrics_token.get_secret_value()))
        seen: dict[str, str] = {}
        for alias, secret in owned:
            if len(secret) < MIN_SECRET_LENGTH or secret.lower() in KNOWN_SECRETS:
                raise SettingsError(
                    f"{alias} must be set to {MIN_SECRET_LENGTH}+ random characters in production"
                )
            if secret in seen:
                raise SettingsError(f"{alias} must differ from {seen[secret]}")
            seen[secret] = alias

    def require_line_credentials(self) -> None:
        """Refuse to serve real LINE without the channel's secret and token."""
        missing = [
            name
            for name, value in (
                ("LINE_CHANNEL_SECRET", self.line_channel_secret),
                ("LINE_CHANNEL_ACCESS_TOKEN", self.line_channel_access_token),
            )
            if not value.get_secret_value()
        ]
        if missing:
            raise SettingsError(f"{missing[0]} is not set (needed to talk to LINE)")
        if self.simulator_enabled and self.talks_to_real_line:
            raise SettingsError(
                "TSUNAGARI_SIMULATOR cannot run beside real LINE credentials and hosts"
            )
        self.require_safe_for_production()


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, turning validation errors into one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]  # pydantic validates each one
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        alias = (
            Settings.model_fields[field].validation_alias
            if field in Settings.model_fields
            else None
        )
        raise SettingsError(f"{alias or field}: {first['msg']}") from None


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, built on first use."""
    return load_settings()
