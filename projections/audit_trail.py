"""audit_trail: who did what, when, why — every event flattened; and who read which record."""

from __future__ import annotations

import hashlib
import json
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
        outcome TEXT NOT NULL DEFAULT 'granted', prev_hash TEXT, hash TEXT)"""


def set_up_access_log(tx: Tx) -> None:
    """Create the access log, or add the columns a log kept by an earlier release lacks (its
    rows were all reads that were granted, and carry no hash: the chain starts after them)."""
    tx.execute(access_log_table(tx))
    columns = tx.columns("rm_access_log")
    if "outcome" not in columns:
        tx.execute("ALTER TABLE rm_access_log ADD COLUMN outcome TEXT NOT NULL DEFAULT 'granted'")
    for column in ("prev_hash", "hash"):
        if column not in columns:
            tx.execute(f"ALTER TABLE rm_access_log ADD COLUMN {column} TEXT")


# The access log is a hash chain, as the events are: each entry's hash covers the previous
# entry's hash and its own fields, so deleting an entry or rewriting one (its actor, say) breaks
# the chain at the next entry, which `verify_access_log` (`cims replay verify --all`) finds.
ACCESS_GENESIS = "0" * 64


def access_entry_hash(prev_hash: str, fields: Sequence[Any]) -> str:
    """SHA-256 over the previous entry's hash and this entry's fields (at, actor id, role and
    organisation, incident, what, outcome) as canonical JSON."""
    body = json.dumps([prev_hash, *fields], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


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
    if tx.postgres:
        # One writer at a time extends the chain (readers of the log are not held up); on
        # SQLite a writing transaction holds the database's write lock already.
        tx.execute("LOCK TABLE rm_access_log IN SHARE ROW EXCLUSIVE MODE")
    last = tx.execute(
        "SELECT hash FROM rm_access_log WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1"
    )
    prev = last[0][0] if last else ACCESS_GENESIS
    rows = []
    for i in ids:
        fields = (ts(at), actor.id, actor.role.value, actor.organisation, i, what, outcome)
        entry = access_entry_hash(prev, fields)
        rows.append((*fields, prev, entry))
        prev = entry
    tx.executemany(
        "INSERT INTO rm_access_log (at, actor_id, actor_role, actor_organisation, incident_id,"
        " what, outcome, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def verify_access_log(tx: Tx, *, page: int = 10_000) -> tuple[int, str | None]:
    """Walk the access log in order and check its chain: (entries checked, the first problem
    or None). Entries kept by a release before the chain carry no hash and come first; the
    chain then starts from `ACCESS_GENESIS`."""
    after, prev, checked = 0, None, 0
    while True:
        rows = tx.execute(
            "SELECT id, at, actor_id, actor_role, actor_organisation, incident_id, what, outcome,"
            " prev_hash, hash FROM rm_access_log WHERE id > ? ORDER BY id LIMIT ?",
            [after, page],
        )
        for row in rows:
            entry_id, fields, prev_hash, entry = row[0], row[1:8], row[8], row[9]
            after = entry_id
            if entry is None:
                if prev is not None:
                    return checked, f"access log entry {entry_id} has lost its hash"
                continue
            checked += 1
            if prev_hash != (prev or ACCESS_GENESIS):
                return checked, (
                    f"access log entry {entry_id} does not follow the entry before it:"
                    " an entry was removed"
                )
            if access_entry_hash(prev_hash, fields) != entry:
                return checked, f"access log entry {entry_id} was altered (its hash does not match)"
            prev = entry
        if len(rows) < page:
            return checked, None


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
