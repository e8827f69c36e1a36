"""audit_trail: who did what, when, why — every event flattened; and who read which record."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.policy_table import policy_named
from domain.rules.times import recorded_late
from domain.summary import summarise
from domain.values import Actor
from projections.base import Batch, serial_key
from projections.db import Tx, ts

name = "audit_trail"
_COLUMNS = (
    "position, incident_id, version, event_type, actor_id, actor_role, actor_organisation,"
    " recorded_at, effective_at, reason, summary, recorded_late"
)


def tables(p: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS {p}audit_trail (
            position BIGINT PRIMARY KEY, incident_id TEXT NOT NULL, version INTEGER NOT NULL,
            event_type TEXT NOT NULL, actor_id TEXT NOT NULL, actor_role TEXT NOT NULL,
            actor_organisation TEXT NOT NULL, recorded_at TEXT NOT NULL, effective_at TEXT,
            reason TEXT, summary TEXT NOT NULL, recorded_late INTEGER NOT NULL DEFAULT 0)""",
        f"CREATE INDEX IF NOT EXISTS {p}audit_trail_incident ON {p}audit_trail"
        " (incident_id, position)",
    ]


# How an attempt to read ended: the record (or list) was returned, or the caller was refused
# (a 403, or a 404 for an incident that is not visible to them or does not exist).
GRANTED = "granted"
REFUSED = "refused"
_ACCESS_COLUMNS = ["id", "at", "actor_id", "actor_role", "actor_organisation", "incident_id"]
_ACCESS_COLUMNS += ["what", "outcome"]


def access_log_table(tx: Tx) -> str:
    # Reads are not events: the access log is appended to directly and never rebuilt.
    return f"""CREATE TABLE IF NOT EXISTS rm_access_log (
        id {serial_key(tx)}, at TEXT NOT NULL, actor_id TEXT NOT NULL, actor_role TEXT NOT NULL,
        actor_organisation TEXT NOT NULL, incident_id TEXT, what TEXT NOT NULL,
        outcome TEXT NOT NULL DEFAULT 'granted')"""


def set_up_access_log(tx: Tx) -> None:
    """Create the access log, or add the columns a log kept by an earlier release lacks (its
    rows were all reads that were granted)."""
    tx.execute(access_log_table(tx))
    if "outcome" not in tx.columns("rm_access_log"):
        tx.execute("ALTER TABLE rm_access_log ADD COLUMN outcome TEXT NOT NULL DEFAULT 'granted'")


def rebuilt_tables(p: str) -> list[str]:
    return [f"{p}audit_trail"]


def handle(tx: Tx, p: str, batch: Batch) -> None:
    tx.insert(
        f"{p}audit_trail",
        [
            (
                position,
                str(e.originator_id),
                e.originator_version,
                type(e).__name__,
                e.actor.id,
                e.actor.role.value,
                e.actor.organisation,
                ts(e.timestamp),
                ts(e.effective_at),
                e.reason,
                summarise(e),
                int(_late(batch, e)),
            )
            for position, e in batch.events
        ],
        _COLUMNS,
    )


def _late(batch: Batch, e: Any) -> bool:
    """Recorded more than the allowed business days after the effective time it claims."""
    if e.effective_at is None:
        return False
    policy = policy_named(batch.incident(e.originator_id).policy_version)
    return recorded_late(e.effective_at, e.timestamp, policy)


def trail(
    tx: Tx, *, incident_id: UUID | None, after: int = 0, limit: int = 100
) -> list[dict[str, Any]]:
    where, params = "position > ?", list[Any]([after])
    if incident_id is not None:
        where += " AND incident_id = ?"
        params.append(str(incident_id))
    rows = tx.execute(
        f"SELECT {_COLUMNS} FROM rm_audit_trail WHERE {where} ORDER BY position LIMIT ?",
        [*params, limit],
    )
    keys = [c.strip() for c in _COLUMNS.split(",")]
    found = [dict(zip(keys, r, strict=True)) for r in rows]
    for row in found:
        row["recorded_late"] = bool(row["recorded_late"])
    return found


def log_access(
    tx: Tx,
    *,
    actor: Actor,
    incident_id: UUID | None,
    what: str,
    at: datetime,
    outcome: str = GRANTED,
) -> None:
    """One read of one incident's record (or a read naming none), granted or refused."""
    log_accesses(tx, actor=actor, incident_ids=[incident_id], what=what, at=at, outcome=outcome)


def log_accesses(
    tx: Tx,
    *,
    actor: Actor,
    incident_ids: Sequence[UUID | str | None],
    what: str,
    at: datetime,
    outcome: str = GRANTED,
) -> None:
    """A read that returned facts of these incidents (a list, a worklist): one row each, so
    the log of an incident shows every list that showed it; a read that returned none is one
    row naming no incident."""
    ids = list(dict.fromkeys(str(i) if i is not None else None for i in incident_ids)) or [None]
    tx.executemany(
        "INSERT INTO rm_access_log (at, actor_id, actor_role, actor_organisation, incident_id,"
        " what, outcome) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(ts(at), actor.id, actor.role.value, actor.organisation, i, what, outcome) for i in ids],
    )


def access_log(
    tx: Tx, *, incident_id: UUID | None = None, after: int = 0, limit: int = 100
) -> list[dict[str, Any]]:
    """Who read (or was refused) which record, when, in the order logged."""
    where, params = "id > ?", list[Any]([after])
    if incident_id is not None:
        where += " AND incident_id = ?"
        params.append(str(incident_id))
    rows = tx.execute(
        f"SELECT {', '.join(_ACCESS_COLUMNS)} FROM rm_access_log WHERE {where} ORDER BY id LIMIT ?",
        [*params, limit],
    )
    return [dict(zip(_ACCESS_COLUMNS, r, strict=True)) for r in rows]
