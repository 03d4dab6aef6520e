"""Typed settings, read from HOTLINE_* environment variables when `load_settings` is called."""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import phonenumbers
from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

ENV_PREFIX = "HOTLINE_"

# The legal bases hotline staff choose from when they pass a concern on (HOTLINE_LEGAL_BASES).
DEFAULT_LEGAL_BASES = (
    "Retsplejeloven § 115, stk. 2",
    "Databeskyttelsesloven § 8, stk. 3",
    "Forvaltningsloven § 28, stk. 2",
    "Samtykke fra borgeren",
)
LEGAL_BASIS_MAX_CHARS = 200


# Settings that existed once, with what replaced them: said instead of "unknown setting".
RETIRED = {
    "HOTLINE_TRIAGE_DEADLINE_HOURS": "no longer a setting: each hotline has its own triage "
    "duration (default 24 hours); set it with `hotline deadlines set HOTLINE --triage-hours N` "
    "or on /admin/deadlines, and remove this variable",
}


class SettingsError(Exception):
    """A configuration value is missing or invalid; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="forbid", case_sensitive=False
    )

    data_dir: Path = Field(
        default=Path("var"),
        description="Folder for the embedded database, generated keys and recordings.",
    )
    # repr=False: these URLs may carry passwords.
    database_url: str | None = Field(
        default=None,
        repr=False,
        description="postgresql+asyncpg://… or sqlite+aiosqlite:///…; "
        "empty means SQLite in the data folder.",
    )
    redis_url: str | None = Field(
        default=None,
        repr=False,
        description="redis://…; empty means an in-process queue (no separate worker).",
    )
    host: str = Field(default="127.0.0.1", description="Address the web server listens on.")
    port: int = Field(default=8080, ge=1, le=65535, description="Port the web server listens on.")
    public_base_url: str | None = Field(
        default=None,
        description="The URL people and Twilio use to reach this service, "
        "e.g. https://hotline.example.dk",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key for CSRF tokens and lookup hashes (32+ characters); "
        "generated into the data folder if empty.",
    )
    data_key: SecretStr | None = Field(
        default=None,
        description="Fernet key(s), comma-separated, newest first, that encrypt personal data "
        "at rest; generated into the data folder if empty.",
    )
    cookie_secure: bool = Field(
        default=True, description="Send the staff session cookie only over HTTPS (and localhost)."
    )
    session_hours: float = Field(
        default=8, gt=0, le=24, description="How long a staff login lasts without activity."
    )
    sweep_seconds: float = Field(
        default=15, gt=0, le=3600, description="How often the sweeper looks for work Redis lost."
    )
    sweep_grace_seconds: float = Field(
        default=30,
        ge=0,
        le=3600,
        description="How long a new contact may wait for its job before the sweeper enqueues it.",
    )
    log_format: Literal["console", "json"] = Field(
        default="console", description="console for people, json for log collectors."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Lowest level written to the log."
    )
    max_body_kib: int = Field(
        default=64, ge=4, le=10240, description="Largest request body accepted on public forms."
    )
    migrate_on_start: bool | None = Field(
        default=None,
        description="Upgrade the schema when serve starts; default: yes on SQLite, "
        "no on PostgreSQL (run `hotline db upgrade`).",
    )
    rate_limits: bool = Field(
        default=True,
        description="Limit requests per client on public forms (reports, receipt checks, login).",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses of reverse proxies whose X-Forwarded-For names "
        "the client (for rate limits); empty trusts none.",
    )
    closed_on_holidays: bool = Field(
        default=False,
        description="Treat Danish public holidays, Christmas Eve and New Year's Eve as closed "
        "for phone calls (voicemail only); off: the national line is open every day.",
    )
    queue_at_risk_hours: float = Field(
        default=4,
        gt=0,
        le=24 * 14,
        description="How long before its deadline a case shows as due soon in the staff queue.",
    )
    chat_accept_seconds: float = Field(
        default=120,
        gt=0,
        le=3600,
        description="How long a web chat waits for staff to accept it before the visitor is "
        "offered the concern form or a call-back instead.",
    )
    legal_bases: tuple[str, ...] = Field(
        default=DEFAULT_LEGAL_BASES,
        description="The legal bases for passing a concern on to a partner unit, as a JSON list "
        'of labels, e.g. ["Retsplejeloven § 115, stk. 2", "Samtykke fra borgeren"]; each '
        "routing stores the label chosen.",
    )
    smtp_host: str | None = Field(
        default=None,
        description="Mail server for routing notices; empty means console mode: notices are "
        "written to the log (without their text) and shown as not sent.",
    )
    smtp_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Mail server port; default 587 (starttls), 465 (ssl) or 25 (none).",
    )
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls",
        description="starttls: upgrade the connection; ssl: TLS from the start; none: plain "
        "(only for a relay on the same host or network).",
    )
    smtp_username: str | None = Field(default=None, description="Mail server login, if any.")
    smtp_password: SecretStr | None = Field(default=None, description="The password of that login.")
    smtp_from_address: str | None = Field(
        default=None,
        description="The From address of routing notices, e.g. hotline@kk.dk; required with "
        "HOTLINE_SMTP_HOST.",
    )
    smtp_timeout_seconds: float = Field(
        default=20, gt=0, le=300, description="How long to wait for the mail server."
    )
    twilio_account_sid: str | None = Field(
        default=None,
        description="Twilio account (AC…); empty means console mode: nothing is sent, "
        "outbound messages are written to the log.",
    )
    twilio_auth_token: SecretStr | None = Field(
        default=None,
        description="Twilio auth token of that account and region: checks webhook signatures "
        "(webhooks are refused without it) and, without an API key, authenticates REST calls.",
    )
    twilio_api_key_sid: str | None = Field(
        default=None, description="Optional Twilio API key (SK…) for REST calls."
    )
    twilio_api_key_secret: SecretStr | None = Field(
        default=None, description="The secret of that API key."
    )
    twilio_region: str = Field(
        default="ie1", description="Twilio region (data residency): ie1 keeps data in the EU."
    )
    twilio_edge: str = Field(default="dublin", description="Twilio edge location for REST calls.")
    twilio_api_url: str | None = Field(
        default=None,
        repr=False,
        description="Send REST calls to this base URL instead of Twilio's (a local "
        "Twilio-compatible stub in tests); never set in production.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token Prometheus sends to scrape /metrics (32+ characters); empty: "
        "/metrics answers 404.",
    )
    alert_caller_id: str | None = Field(
        default=None,
        description="The number alert calls to staff come from (E.164, e.g. +4570203040: a "
        "voice-capable number of the Twilio account); empty: the number of the hotline the "
        "alert's case belongs to.",
    )

    test_clock_file: Path | None = Field(
        default=None,
        description="Tests only: read the time from this file (an ISO 8601 instant) instead "
        "of the system clock, so tests can move time in real processes; refused unless "
        "HOTLINE_ALLOW_TEST_CLOCK=true.",
    )
    allow_test_clock: bool = Field(
        default=False,
        description="Tests only: permit HOTLINE_TEST_CLOCK_FILE. Never set in production.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only the values load_settings passes in: never os.environ (or files) behind its back.
        return (init_settings,)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError(
                "must start with postgresql+asyncpg:// or sqlite+aiosqlite:// "
                "(the server is async; the worker derives its own driver)"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("https://", "http://")) or "?" in value or "#" in value:
            raise ValueError("must be an absolute http(s) URL without query or fragment")
        return value.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        for address in _split(value):
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ValueError(f"{address!r} is not an IP address") from None
        return value

    @field_validator("legal_bases", mode="before")
    @classmethod
    def _legal_basis_labels(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise ValueError(
                    'must be a JSON list of labels, e.g. ["Retsplejeloven § 115, stk. 2"]'
                ) from None
        if not isinstance(value, list | tuple) or not value:
            raise ValueError(
                'must be a non-empty JSON list of labels, e.g. ["Retsplejeloven § 115, stk. 2"]'
            )
        labels: list[str] = []
        for item in value:
            if not isinstance(item, str) or not item.strip():
                raise ValueError("every legal basis must be a non-empty text")
            label = " ".join(item.split())
            if len(label) > LEGAL_BASIS_MAX_CHARS:
                raise ValueError(
                    f"a legal basis may have at most {LEGAL_BASIS_MAX_CHARS} characters: {label!r}"
                )
            if label in labels:
                raise ValueError(f"{label!r} is listed twice")
            labels.append(label)
        return tuple(labels)

    @field_validator("smtp_host", "smtp_username", "smtp_from_address", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("smtp_from_address")
    @classmethod
    def _from_address(cls, value: str | None) -> str | None:
        if value is not None and not is_email_address(value):
            raise ValueError("must be an e-mail address like hotline@example.dk")
        return value

    @model_validator(mode="after")
    def _smtp_complete(self) -> Settings:
        if self.smtp_host is not None and self.smtp_from_address is None:
            raise ValueError(
                "HOTLINE_SMTP_FROM_ADDRESS must be set with HOTLINE_SMTP_HOST "
                "(the sender of routing notices)"
            )
        if (self.smtp_username is None) != (self.smtp_password is None):
            raise ValueError(
                "HOTLINE_SMTP_USERNAME and HOTLINE_SMTP_PASSWORD go together: set both or neither"
            )
        return self

    @field_validator("twilio_account_sid", "twilio_api_key_sid")
    @classmethod
    def _twilio_sid(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value:
            return None
        prefix = "AC" if info.field_name == "twilio_account_sid" else "SK"
        if not re.fullmatch(prefix + "[0-9a-f]{32}", value):
            raise ValueError(f"must be {prefix} followed by 32 hexadecimal digits")
        return value

    @field_validator(
        "twilio_auth_token",
        "twilio_api_key_secret",
        "smtp_password",
        "metrics_token",
        mode="before",
    )
    @classmethod
    def _empty_secret_is_unset(cls, value: object) -> object:
        # An empty secret would sign or authenticate with an empty key: treat it as not set.
        return None if value == "" else value

    @model_validator(mode="after")
    def _api_key_pair(self) -> Settings:
        if (self.twilio_api_key_sid is None) != (self.twilio_api_key_secret is None):
            raise ValueError(
                "HOTLINE_TWILIO_API_KEY_SID and HOTLINE_TWILIO_API_KEY_SECRET go together: "
                "set both or neither"
            )
        return self

    @field_validator("twilio_api_url")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an absolute http(s) URL")
        return value.rstrip("/")

    @field_validator("alert_caller_id")
    @classmethod
    def _e164_number(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not re.fullmatch(r"\+[1-9]\d{6,14}", value):
            raise ValueError("must be a phone number in E.164 form, e.g. +4570203040")
        try:
            valid = phonenumbers.is_valid_number(phonenumbers.parse(value))
        except phonenumbers.NumberParseException:
            valid = False
        if not valid:
            raise ValueError("is not a valid phone number")
        return value

    @model_validator(mode="after")
    def _test_clock_only_when_allowed(self) -> Settings:
        if self.test_clock_file is not None and not self.allow_test_clock:
            raise ValueError(
                "HOTLINE_TEST_CLOCK_FILE is for tests only and needs HOTLINE_ALLOW_TEST_CLOCK=true"
            )
        return self

    @field_validator("test_clock_file", mode="before")
    @classmethod
    def _empty_path_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("secret_key", "metrics_token")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None or self.database_url.startswith("sqlite")

    @property
    def embedded_queue(self) -> bool:
        return self.redis_url is None

    @property
    def trusted_proxy_addresses(self) -> frozenset[str]:
        return frozenset(_split(self.trusted_proxies))

    @property
    def twilio_enabled(self) -> bool:
        """Real sending through Twilio; otherwise console mode (logged, not sent)."""
        return self.twilio_account_sid is not None and (
            self.twilio_auth_token is not None or self.twilio_api_key_secret is not None
        )  # an API key always comes as a pair (validated above)

    @property
    def email_enabled(self) -> bool:
        """Routing notices go to a mail server; otherwise console mode (logged, not sent)."""
        return self.smtp_host is not None

    @property
    def resolved_smtp_port(self) -> int:
        if self.smtp_port is not None:
            return self.smtp_port
        return {"starttls": 587, "ssl": 465, "none": 25}[self.smtp_security]

    @property
    def base_url(self) -> str:
        """Where people reach this service: the public URL, else where `serve` listens."""
        if self.public_base_url:
            return self.public_base_url
        # A server listening on every address is still reached on the loopback one.
        everywhere = ("0.0.0.0", "::", "")  # noqa: S104  (compared with, not bound to)
        host = "127.0.0.1" if self.host in everywhere else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'hotline.db').resolve()}"

    @property
    def should_migrate_on_start(self) -> bool:
        if self.migrate_on_start is not None:
            return self.migrate_on_start
        return self.embedded_database


# One bare address (no display name): a local part, @, a domain with at least one dot. No
# spaces, commas, angle brackets or line breaks, so it can go into a mail header as it is.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_ADDRESS = re.compile(rf"[^@\s<>,;:\"()\[\]]{{1,64}}@{_LABEL}(?:\.{_LABEL})+")


def is_email_address(value: str) -> bool:
    return len(value) <= 254 and EMAIL_ADDRESS.fullmatch(value) is not None


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _describe(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if not error["loc"]:
        return message  # a rule across settings; its message names the variables
    field = str(error["loc"][0])
    variable = ENV_PREFIX + field.upper()
    if error["type"] == "extra_forbidden":
        return f"{field}: unknown setting"
    return f"{variable}: {message}"


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from HOTLINE_* variables (default: the process environment) and overrides.

    Raises SettingsError whose message names every bad variable and what it allows.
    """
    source = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    unknown: list[str] = []
    known = set(Settings.model_fields)
    for key, raw in source.items():
        if not key.upper().startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name in known:
            values[name] = raw
        else:
            unknown.append(key)
    retired = sorted(key for key in unknown if key.upper() in RETIRED)
    if retired:
        raise SettingsError("; ".join(f"{key}: {RETIRED[key.upper()]}" for key in retired))
    if unknown:
        raise SettingsError(
            "unknown setting(s): " + ", ".join(sorted(unknown)) + " (see `hotline config`)"
        )
    values.update(overrides)
    try:
        # Pass values explicitly so the result depends only on `source`, not on os.environ.
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise SettingsError(
            "invalid configuration: " + "; ".join(_describe(e) for e in exc.errors())
        ) from exc
