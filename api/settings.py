"""Settings from the environment (prefix `CIMS_`), read once per process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.persistence import DEFAULT_DATABASE_URL, is_postgres


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
    feed_secret: str = "development-feed-secret"
    run_projections_in_process: bool = True
    read_your_writes_wait_seconds: float = 2.0
    max_body_bytes: int = 1024 * 1024
    max_json_depth: int = 32
    # The follower records a ledger checkpoint each time this many events have been logged.
    checkpoint_every: int = 1000
    checkpoint_key: str = "development-checkpoint-key"

    def secret_file(self) -> Path:
        """Where the generated development secret is kept: beside the embedded store."""
        if is_postgres(self.database_url):
            return Path(".cims-jwt-secret")
        db = Path(self.database_url.removeprefix("sqlite:///"))
        return db.parent / ".cims-jwt-secret"


@lru_cache
def get_settings() -> Settings:
    return Settings()
