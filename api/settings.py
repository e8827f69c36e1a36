"""Settings from the environment (prefix `CIMS_`), read once per process.

Every setting says, on its field, what it means, its unit and which processes read it:
`docs/configuration.md` is generated from these fields (`python -m api.config_reference`) and a
test holds the two equal.
"""

from __future__ import annotations

import base64
import binascii
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.persistence import DEFAULT_DATABASE_URL, is_postgres

# The processes that read settings: `cims serve` (API), `cims projections run` (worker),
# `cims projections push` (pusher), `cims reminders run` (reminders), and the other `cims`
# commands (CLI).
API, WORKER, PUSHER, REMINDERS, CLI = "API", "worker", "pusher", "reminders", "CLI"
EVERY = (API, WORKER, PUSHER, REMINDERS, CLI)


def setting(
    default: Any,
    description: str,
    *,
    read_by: tuple[str, ...],
    unit: str | None = None,
    **bounds: Any,
) -> Any:
    """A field with what the configuration reference says of it: its meaning, its unit (if it
    has one) and the processes that read it; `bounds` are pydantic's (`ge=1`, ...)."""
    extra: dict[str, Any] = {"read_by": list(read_by)}
    if unit is not None:
        extra["unit"] = unit
    return Field(default, description=description, json_schema_extra=extra, **bounds)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CIMS_", extra="ignore")

    database_url: str = setting(
        DEFAULT_DATABASE_URL,
        "The event store and its read models: `sqlite:///PATH` (embedded, development) or"
        " `postgresql://USER:PASSWORD@HOST:PORT/DB[?schema=NAME]` (production).",
        read_by=EVERY,
    )
    jwt_secret: str | None = setting(
        None,
        "The shared HS256 key bearer tokens are signed with (32 bytes or more outside"
        " development). Unset on the embedded store: a key is generated beside it. On"
        " PostgreSQL one of this, `CIMS_JWKS_URL` or `CIMS_OIDC_ISSUER` is required.",
        read_by=(API, CLI),
    )
    jwks_url: str | None = setting(
        None,
        "The issuer's JSON Web Key Set: tokens are RS256, checked with its keys.",
        read_by=(API,),
    )
    jwt_audience: str | None = setting(
        None, "When set, a token's `aud` must equal it.", read_by=(API, CLI)
    )
    oidc_issuer: str | None = setting(
        None,
        "OpenID Connect sign-in for the web front end: the issuer, whose discovery document"
        " gives the keys the API checks tokens with.",
        read_by=(API,),
    )
    oidc_client_id: str = setting(
        "cims-web", "The web front end's public client id at the OIDC issuer.", read_by=(API,)
    )
    dev_sign_in: bool | None = setting(
        None,
        "Development sign-in (`POST /v1/dev/token`, the demo sign-in page): anyone may mint a"
        " token for any role. Unset: on for the embedded SQLite store with no token"
        " configuration, off otherwise. `true` turns it on anywhere (said at start and in"
        " `/readyz`); `false` turns it off.",
        read_by=(API,),
    )
    jwt_issuer: str | None = setting(
        None, "When set, a token's `iss` must equal it.", read_by=(API, CLI)
    )
    jwt_max_lifetime_seconds: int = setting(
        12 * 3600,
        "The longest lifetime (`exp - iat`) of a token accepted or minted.",
        read_by=(API, CLI),
        unit="seconds",
    )
    jwt_leeway_seconds: int = setting(
        30, "Clock skew allowed on `exp`, `iat` and `nbf`.", read_by=(API,), unit="seconds"
    )
    max_token_bytes: int = setting(
        8 * 1024, "Tokens longer than this are refused unread.", read_by=(API,), unit="bytes"
    )
    token_cache_size: int = setting(
        4096, "Verified tokens kept until they expire.", read_by=(API,), unit="tokens"
    )
    jwks_timeout_seconds: float = setting(
        2.0, "How long one fetch of the issuer's keys may take.", read_by=(API,), unit="seconds"
    )
    jwks_min_refresh_seconds: float = setting(
        30.0,
        "How often a token naming an unknown key may cause another fetch of the issuer's keys.",
        read_by=(API,),
        unit="seconds",
    )
    max_header_bytes: int = setting(
        16 * 1024,
        "Request headers beyond this in all are refused (431).",
        read_by=(API,),
        unit="bytes",
    )
    rate_limit_enabled: bool = setting(
        True, "Whether requests are rate limited (429 with Retry-After).", read_by=(API,)
    )
    rate_limit_per_principal: str = setting(
        "1000/second;20000/minute",
        "Limits per authenticated principal, in the `limits` library's notation (`;` between"
        " limits). Generous by default: they stop floods, not a busy front end.",
        read_by=(API,),
        unit="requests per period",
    )
    rate_limit_per_address: str = setting(
        "200/second;6000/minute",
        "Limits per client address for unauthenticated requests, as above.",
        read_by=(API,),
        unit="requests per period",
    )
    rate_limit_storage: str = setting(
        "memory://",
        "Where rate-limit counters are kept (`memory://`, or e.g. `redis://HOST` to share"
        " them between API processes).",
        read_by=(API,),
    )
    max_position_waiters: int = setting(
        64,
        "Read-your-writes (`?min_position=`) requests waiting at once, past which a 503.",
        read_by=(API,),
        unit="requests",
    )
    feed_secret: str = setting(
        "development-feed-secret",
        "The key the regulators' feeds pseudonymise clients with (32 bytes or more; required"
        " on PostgreSQL).",
        read_by=(API, WORKER, PUSHER, CLI),
    )
    run_projections_in_process: bool = setting(
        True,
        "Whether the API follows the log itself and keeps the read models up to date; `false`"
        " when `cims projections run` workers do it.",
        read_by=(API,),
    )
    read_your_writes_wait_seconds: float = setting(
        2.0,
        "How long a read asking for `?min_position=` waits for the read models.",
        read_by=(API,),
        unit="seconds",
    )
    max_body_bytes: int = setting(
        1024 * 1024, "Request bodies beyond this are refused (413).", read_by=(API,), unit="bytes"
    )
    max_json_depth: int = setting(
        32,
        "JSON request bodies nested deeper than this are refused (400).",
        read_by=(API,),
        unit="levels",
    )
    checkpoint_every: int = setting(
        1000,
        "The follower records a signed ledger checkpoint each time this many events have been"
        " logged; 0 for none.",
        read_by=(API, WORKER),
        unit="events",
    )
    checkpoint_key: str = setting(
        "development-checkpoint-key",
        "The key ledger checkpoints are signed and checked with (32 bytes or more; required"
        " on PostgreSQL).",
        read_by=(API, WORKER, PUSHER, CLI),
    )
    checkpoint_every_seconds: float = setting(
        60.0,
        "...and at least this often while the log grows (0: by count alone), so events removed"
        " from the end of the log go unseen at most this long (docs/architecture.md).",
        read_by=(API, WORKER),
        unit="seconds",
    )
    checkpoint_witness_file: str | None = setting(
        None,
        "A witness outside the database: a file each signed checkpoint is appended to, as a"
        " JSON line (replay/witness.py).",
        read_by=(API, WORKER),
    )
    checkpoint_witness_url: str | None = setting(
        None,
        "A witness outside the database: a URL each signed checkpoint is POSTed to (https, or"
        " http to loopback; no credentials in it).",
        read_by=(API, WORKER),
    )
    department_organisations: list[str] = setting(
        ["DFFH", "Department of Families, Fairness and Housing"],
        "The department's own organisation(s), a JSON list: the roles that see every incident"
        " (department officer, auditor, admin) come only with one of these; a token giving"
        " such a role to any other organisation is refused.",
        read_by=(API,),
    )
    document_max_bytes: int = setting(
        256 * 1024 * 1024,
        "The largest document kept (413 past it).",
        read_by=(API,),
        unit="bytes",
    )
    document_types: str = setting(
        ",".join(
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
        ),
        "The media types a document may have, as sniffed from its bytes, comma-separated (415"
        " for any other).",
        read_by=(API,),
    )
    document_spool_dir: str | None = setting(
        None,
        "Where uploads are spooled on their way in (the system's temporary folder when unset).",
        read_by=(API,),
    )
    webhook_secret: str | None = setting(
        None,
        "The Standard Webhooks key shared with a regulator's receiver (`whsec_` + base64).",
        read_by=(PUSHER,),
    )
    cors_origins: str = setting(
        "",
        "Browser origins allowed to call the API (CORS), comma-separated; none by default.",
        read_by=(API,),
    )
    incident_cache_size: int = setting(
        2000,
        "How many incidents' decoded events each process keeps for deciding commands and"
        " following the log; 0 keeps none.",
        read_by=(API, WORKER, PUSHER, CLI),
        unit="incidents",
    )
    group_commit_max_batch: int = setting(
        64,
        "How many commands arriving together may share one transaction (group commit); 1"
        " turns it off.",
        read_by=(API, CLI),
        unit="commands",
    )
    ready_max_lag_seconds: float = setting(
        30.0,
        "`/readyz` answers 503 and `cims projections status` exits 1 when a read model has not"
        " applied an event logged longer ago than this.",
        read_by=(API, CLI),
        unit="seconds",
    )
    log_format: Literal["json", "console"] = setting(
        "json",
        "How services log to stderr: one JSON object a line, or `console` for people.",
        read_by=(API, WORKER, PUSHER),
    )
    log_level: Literal["debug", "info", "warning", "error"] = setting(
        "info", "The least severe log records written.", read_by=(API, WORKER, PUSHER)
    )

    def ledger_options(self) -> dict[str, str]:
        """The ledger's own settings (`Ledger.from_url`'s `options`)."""
        return {
            "INCIDENT_CACHE_SIZE": str(self.incident_cache_size),
            "GROUP_COMMIT_MAX_BATCH": str(self.group_commit_max_batch),
        }

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


def development_sign_in(settings: Settings) -> bool:
    """Whether development sign-in (anyone may mint a token for any role) is on: as
    `CIMS_DEV_SIGN_IN` says when it is set; else only on the embedded SQLite store with no
    token configuration (no JWT secret, JWKS or OIDC issuer)."""
    if settings.dev_sign_in is not None:
        return settings.dev_sign_in
    configured = settings.jwt_secret or settings.jwks_url or settings.oidc_issuer
    return not configured and not is_postgres(settings.database_url)


def require_token_configuration(settings: Settings) -> None:
    """On PostgreSQL (production), tokens are checked with a configured key: refuse to start
    with no `CIMS_JWT_SECRET`, `CIMS_JWKS_URL` or `CIMS_OIDC_ISSUER`, unless the operator has
    turned development sign-in on explicitly. Development tokens are HS256, so development
    sign-in beside an issuer's keys (which would refuse them) is refused too."""
    configured = settings.jwt_secret or settings.jwks_url or settings.oidc_issuer
    if is_postgres(settings.database_url) and not configured and not settings.dev_sign_in:
        raise InsecureSecret(
            "refusing to start: CIMS_JWT_SECRET, CIMS_JWKS_URL or CIMS_OIDC_ISSUER is not set"
            " (tokens on PostgreSQL need one; CIMS_DEV_SIGN_IN=true opens development sign-in"
            " instead)"
        )
    if settings.dev_sign_in and (settings.jwks_url or settings.oidc_issuer):
        issuer = "CIMS_JWKS_URL" if settings.jwks_url else "CIMS_OIDC_ISSUER"
        raise InsecureSecret(
            f"refusing to start: CIMS_DEV_SIGN_IN=true mints tokens that {issuer}'s keys"
            " would refuse; unset one of them"
        )


class ReminderSettings(BaseSettings):
    """Reminders by email (`cims reminders run`): the SMTP server and when notices go."""

    model_config = SettingsConfigDict(env_prefix="CIMS_", extra="ignore")

    smtp_host: str | None = setting(
        None,
        "The SMTP server reminders are sent through; unset: none are sent.",
        read_by=(REMINDERS,),
    )
    smtp_port: int = setting(587, "The SMTP server's port.", read_by=(REMINDERS,), ge=1, le=65535)
    smtp_starttls: bool = setting(
        True,
        "Upgrade the connection with STARTTLS (the certificate verified).",
        read_by=(REMINDERS,),
    )
    smtp_ca_file: str | None = setting(
        None,
        "A CA certificate (PEM) to trust for STARTTLS instead of the system's.",
        read_by=(REMINDERS,),
    )
    smtp_username: str | None = setting(
        None, "Log in to the SMTP server as this user, when set.", read_by=(REMINDERS,)
    )
    smtp_password: str | None = setting(
        None, "The SMTP password (with the user).", read_by=(REMINDERS,)
    )
    smtp_from: str = setting(
        "cims-reminders@localhost", "The From address of every reminder.", read_by=(REMINDERS,)
    )
    smtp_timeout_seconds: float = setting(
        10.0, "One SMTP conversation, at most.", read_by=(REMINDERS,), unit="seconds", gt=0
    )
    reminder_lead_business_days: int = setting(
        1,
        "A due-soon notice goes when an obligation falls due by close of business this many"
        " business days ahead (0: today).",
        read_by=(REMINDERS,),
        unit="business days",
        ge=0,
        le=10,
    )
    reminder_digest_time: time = setting(
        time(7, 30),
        "When the daily digest goes, Melbourne time, on business days.",
        read_by=(REMINDERS,),
        unit="time of day",
    )
    reminder_poll_seconds: float = setting(
        30.0,
        "How often the reminder worker looks for what is owed.",
        read_by=(REMINDERS,),
        unit="seconds",
        gt=0,
    )
    reminder_retry_first_seconds: float = setting(
        30.0,
        "The first wait before a failed delivery is tried again.",
        read_by=(REMINDERS,),
        unit="seconds",
        ge=0,
    )
    reminder_retry_max_seconds: float = setting(
        3600.0,
        "The longest wait between tries (the wait doubles).",
        read_by=(REMINDERS,),
        unit="seconds",
        gt=0,
    )
    reminder_lease_seconds: float = setting(
        120.0,
        "How long a worker holds a notice it is sending; a worker that dies leaves it to"
        " another after this.",
        read_by=(REMINDERS,),
        unit="seconds",
        gt=0,
    )
    public_url: str = setting(
        "http://127.0.0.1:8000",
        "The web front end's address, for the link in each reminder.",
        read_by=(REMINDERS,),
    )
