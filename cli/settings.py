"""Where the command line finds the store: the same `CIMS_` settings as the API."""

from __future__ import annotations

import typer
from rich.console import Console

from api.settings import InsecureSecret, Settings, require_secrets
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
    """The key checkpoints are signed and checked with; outside development a known or short
    one is refused (exit 2), as anyone could forge a checkpoint signed with it."""
    found = settings()
    try:
        require_secrets(found, "checkpoint_key")
    except InsecureSecret as exc:
        Console(stderr=True).print(str(exc), markup=False, highlight=False)
        raise typer.Exit(2) from None
    return found.checkpoint_key.encode()
