"""Reads made at the command line are in the access log too, as the API's are.

The reader is the operating-system user who ran `cims` on this host (a command-line principal:
role `admin`, organisation "command line on HOST"), since whoever runs it holds the store's own
credentials. Each command that shows an incident's facts (`incidents show`, `fairness`, `replay
history`, `as-of`, `diff`, `export`) writes its row before it answers; if the row cannot be
written, nothing is shown."""

from __future__ import annotations

import getpass
import socket
from datetime import UTC, datetime
from uuid import UUID

from domain.values import Actor, Role
from projections.audit_trail import log_access, set_up_access_log
from projections.db import Db


def cli_principal() -> Actor:
    """Who is reading: the OS user on this host."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (a container, say)
        user = "unknown-user"
    return Actor(
        id=user[:200], role=Role.ADMIN, organisation=f"command line on {socket.gethostname()}"
    )


def log_read(url: str, incident_id: UUID, what: str) -> None:
    """One row in the access log: the OS user read this incident's `what` at the command line."""
    db = Db(url)
    try:
        with db.transaction(write=True) as tx:
            set_up_access_log(tx)
            log_access(
                tx,
                actor=cli_principal(),
                incident_id=incident_id,
                what=f"cli:{what}",
                at=datetime.now(UTC),
            )
    finally:
        db.close()
