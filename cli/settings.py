"""Where the command line finds the store: the same `CIMS_` settings as the API."""

from __future__ import annotations

from api.settings import InsecureSecret, Settings, require_secrets
from cli.output import CliError
from cli.store import prepare
from ledger.application import Ledger


def settings() -> Settings:
    return Settings()


def database_url() -> str:
    return settings().database_url


def store(*, create: bool = False) -> str:
    """The store's URL, once its name is said on stderr and it is known to exist (or, with
    `create`, has been created); see `cli.store.prepare`."""
    return prepare(database_url(), create=create)


def feed_secret() -> bytes:
    return settings().feed_secret.encode()


def open_ledger(url: str | None = None) -> Ledger:
    """The ledger on `url` (from `store()`), or, when none is given, on the configured store,
    named on stderr first (and created if missing) so no command opens a store unannounced."""
    return Ledger.from_url(url or store(create=True), settings().ledger_options())


def checkpoint_key() -> bytes:
    """The key checkpoints are signed and checked with; outside development a known or short
    one is refused (one line, exit 2), as anyone could forge a checkpoint signed with it."""
    found = settings()
    try:
        require_secrets(found, "checkpoint_key")
    except InsecureSecret as exc:
        raise CliError(str(exc), exit_code=2) from None
    return found.checkpoint_key.encode()
