"""What a served process checks before it serves: every refusal is one line naming the setting.

`cims serve` runs these checks in its own process before uvicorn starts (so a refusal is one
line and exit 2, never a traceback per worker, nor workers respawned for ever); `create_app`
runs them again, for an app built some other way.
"""

from __future__ import annotations

from api.settings import (
    SERVICE_SECRETS,
    Settings,
    require_secrets,
    require_strong_if_set,
    require_token_configuration,
)
from projections.db import Db


class UnsafeStore(RuntimeError):
    """PostgreSQL runs with settings under which an acknowledged command could be lost."""


def require_safe_settings(settings: Settings) -> None:
    """Secrets strong (outside development) and tokens checked with a configured key; raises
    `InsecureSecret` naming the variable."""
    require_secrets(settings, *SERVICE_SECRETS)
    require_strong_if_set(settings, "jwt_secret")
    require_token_configuration(settings)


def unsafe_durability(db: Db) -> UnsafeStore | None:
    """The refusal to give when the store's durability settings are unsafe, else None."""
    unsafe = db.unsafe_durability()
    if not unsafe:
        return None
    # The API answers 2xx only for what is durably committed; with these it could not.
    return UnsafeStore(
        f"refusing to start: PostgreSQL has {', '.join(unsafe)}; an acknowledged command"
        " could be lost in a crash (set fsync, full_page_writes and synchronous_commit on)"
    )


def require_durable_store(database_url: str) -> None:
    """Raises `UnsafeStore` when the store could lose an acknowledged command."""
    db = Db(database_url)
    try:
        refusal = unsafe_durability(db)
    finally:
        db.close()
    if refusal is not None:
        raise refusal
