"""Where the command line finds the store: the same `CIMS_` settings as the API."""

from __future__ import annotations

from api.settings import Settings
from domain.ledger import Ledger


def settings() -> Settings:
    return Settings()


def database_url() -> str:
    return settings().database_url


def feed_secret() -> bytes:
    return settings().feed_secret.encode()


def open_ledger() -> Ledger:
    return Ledger.from_url(database_url())


def checkpoint_key() -> bytes:
    return settings().checkpoint_key.encode()
