"""Settings from the environment (prefix `CIMS_`), read once per process."""

from __future__ import annotations

import base64
import binascii
from datetime import time
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.persistence import DEFAULT_DATABASE_URL, is_postgres


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CIMS_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    jwt_secret: str | None = None
    jwks_url: str | None = None
    jwt_audience: str | None = None
    # OpenID Connect sign-in for the web front end: the issuer (its discovery document gives
    # the JWKS the API checks tokens with) and the front end's public client id.
    oidc_issuer: str | None = None
    oidc_client_id: str = "cims-web"
    # Tokens (api/auth.py): `iss` must equal this when set; the longest `exp - iat` accepted;
    # clock skew allowed on `exp`, `iat`, `nbf`; tokens longer than this are refused unread.
    jwt_issuer: str | None = None
    jwt_max_lifetime_seconds: int = 12 * 3600
    jwt_leeway_seconds: int = 30
    max_token_bytes: int = 8 * 1024
    token_cache_size: int = 4096
    # The issuer's keys: how long one fetch may take, and how often a token naming an unknown
    # key may cause another.
    jwks_timeout_seconds: float = 2.0
    jwks_min_refresh_seconds: float = 30.0
    # Request headers beyond this many bytes in all are a 431.
    max_header_bytes: int = 16 * 1024
    # Rate limits (the `limits` library's notation, ";" between limits): per principal for
    # authenticated requests, per client address otherwise; a 429 with Retry-After past them.
    # Generous by default: they stop floods, not a busy front end or a test suite.
    rate_limit_enabled: bool = True
    rate_limit_per_principal: str = "1000/second;20000/minute"
    rate_limit_per_address: str = "200/second;6000/minute"
    rate_limit_storage: str = "memory://"
    # Read-your-writes (`?min_position=`): requests waiting at once, past which a 503.
    max_position_waiters: int = 64
    feed_secret: str = "development-feed-secret"
    run_projections_in_process: bool = True
    read_your_writes_wait_seconds: float = 2.0
    max_body_bytes: int = 1024 * 1024
    max_json_depth: int = 32
    # The follower records a ledger checkpoint each time this many events have been logged.
    checkpoint_every: int = 1000
    # ...and at least this often (seconds) while the log grows (0: by count alone), so events
    # removed from the end of the log go unseen at most this long (docs/architecture.md).
    checkpoint_every_seconds: float = 60.0
    # Witnesses outside the database for each checkpoint, signed (replay/witness.py): a file
    # to append JSON lines to, and/or a URL to POST each to (https, or http to loopback).
    checkpoint_witness_file: str | None = None
    checkpoint_witness_url: str | None = None
    checkpoint_key: str = "development-checkpoint-key"
    # The Standard Webhooks key shared with a regulator's receiver (`whsec_` + base64).
    webhook_secret: str | None = None

    # The department's own organisation(s): the roles that see every incident (department
    # officer, auditor, admin) come only with one of these; a token giving such a role to any
    # other organisation is refused. A JSON list in the environment:
    # CIMS_DEPARTMENT_ORGANISATIONS='["DFFH", "Department of Families, Fairness and Housing"]'.
    department_organisations: list[str] = [
        "DFFH",
        "Department of Families, Fairness and Housing",
    ]
    # Documents on the record (api/routers/documents.py): the largest file kept, in bytes; the
    # media types kept (as sniffed from the bytes), comma-separated; where uploads are spooled
    # on their way in (the system's temporary folder when unset).
    document_max_bytes: int = 256 * 1024 * 1024
    document_types: str = ",".join(
        (
            "application/pdf",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "text/plain",
            "image/jpeg",
            "image/png",
            "image/tiff",
            "video/mp4",
            "audio/mpeg",
        )
    )
    document_spool_dir: str | None = None

    # Browser origins allowed to call the API (CORS), comma-separated; none by default.
    cors_origins: str = ""

    def allowed_origins(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    def secret_file(self) -> Path:
        """Where the generated development secret is kept: beside the embedded store."""
        if is_postgres(self.database_url):
            return Path(".cims-jwt-secret")
        db = Path(self.database_url.removeprefix("sqlite:///"))
        return db.parent / ".cims-jwt-secret"


# Publicly known: the values the settings fall back to in the embedded development set-up.
DEVELOPMENT_SECRETS = frozenset({"development-feed-secret", "development-checkpoint-key"})
MIN_SECRET_BYTES = 32
# Secrets the API, the projection worker and the pusher refuse to start without (outside
# development): the regulators' pseudonym key and the checkpoint signing key.
SERVICE_SECRETS = ("feed_secret", "checkpoint_key")


class InsecureSecret(RuntimeError):
    """A process would run outside development with a missing, known or short secret."""


def secret_bytes(value: str) -> bytes:
    """The key a secret setting stands for: a `whsec_` value is base64 (Standard Webhooks)."""
    if value.startswith("whsec_"):
        try:
            return base64.b64decode(value.removeprefix("whsec_") + "==", validate=False)
        except (binascii.Error, ValueError):
            raise InsecureSecret("a whsec_ secret must be base64 after the prefix") from None
    return value.encode()


def require_secrets(settings: Settings, *names: str) -> None:
    """Outside the embedded development set-up (SQLite), refuse to start with any of the named
    secrets missing, left at its publicly known development value, or shorter than 32 bytes.
    The error names the environment variable to set."""
    if not is_postgres(settings.database_url):
        return
    for name in names:
        variable = f"CIMS_{name.upper()}"
        value = getattr(settings, name)
        if name not in settings.model_fields_set or not value:
            raise InsecureSecret(f"refusing to start: {variable} is not set")
        if value in DEVELOPMENT_SECRETS:
            raise InsecureSecret(f"refusing to start: {variable} is the development value")
        if len(secret_bytes(value)) < MIN_SECRET_BYTES:
            raise InsecureSecret(
                f"refusing to start: {variable} is shorter than {MIN_SECRET_BYTES} bytes"
            )


def require_strong_if_set(settings: Settings, *names: str) -> None:
    """Outside development, an optional secret (the JWT signing secret: production may use
    JWKS instead) is refused when given shorter than 32 bytes or at a development value."""
    given = [n for n in names if getattr(settings, n)]
    require_secrets(settings, *given)


@lru_cache
def get_settings() -> Settings:
    return Settings()


class ReminderSettings(BaseSettings):
    """Reminders by email (`cims reminders run`): the SMTP server and when notices go."""

    model_config = SettingsConfigDict(env_prefix="CIMS_", extra="ignore")

    smtp_host: str | None = Field(
        None, description="The SMTP server reminders are sent through; unset: none are sent."
    )
    smtp_port: int = Field(587, ge=1, le=65535, description="Its port.")
    smtp_starttls: bool = Field(
        True, description="Upgrade the connection with STARTTLS (the certificate verified)."
    )
    smtp_ca_file: str | None = Field(
        None, description="A CA certificate (PEM) to trust for STARTTLS instead of the system's."
    )
    smtp_username: str | None = Field(None, description="Log in as this user, when set.")
    smtp_password: str | None = Field(None, description="The SMTP password (with the user).")
    smtp_from: str = Field(
        "cims-reminders@localhost", description="The From address of every reminder."
    )
    smtp_timeout_seconds: float = Field(10.0, gt=0, description="One SMTP conversation, at most.")
    reminder_lead_business_days: int = Field(
        1,
        ge=0,
        le=10,
        description="A due-soon notice goes when an obligation falls due by close of business "
        "this many business days ahead (0: today).",
    )
    reminder_digest_time: time = Field(
        time(7, 30), description="When the daily digest goes, Melbourne time, on business days."
    )
    reminder_poll_seconds: float = Field(
        30.0, gt=0, description="How often the reminder worker looks for what is owed."
    )
    reminder_retry_first_seconds: float = Field(
        30.0, ge=0, description="The first wait before a failed delivery is tried again."
    )
    reminder_retry_max_seconds: float = Field(
        3600.0, gt=0, description="The longest wait between tries (the wait doubles)."
    )
    reminder_lease_seconds: float = Field(
        120.0,
        gt=0,
        description="How long a worker holds a notice it is sending; a worker that dies "
        "leaves it to another after this.",
    )
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="The web front end's address, for the link in each reminder.",
    )
