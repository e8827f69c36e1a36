"""Ledger checkpoints: the running digest of the whole log, kept so deletions are evident."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from projections.db import Db, ts
from replay.store import EventRows, Row


class Checkpoint(BaseModel):
    """The digest of every stored event up to `position`; export it to keep it elsewhere."""

    model_config = ConfigDict(frozen=True)

    position: int
    event_count: int
    digest: str
    created_at: str


def fold_digest(digest: str, row: Row) -> str:
    """Chain one stored row, exactly as stored, into the running digest of the log."""
    item = hashlib.sha256(
        f"{row.position}|{row.incident_id}|{row.version}|{row.topic}|".encode() + row.state
    ).hexdigest()
    return hashlib.sha256(f"{digest}{item}".encode()).hexdigest()


class Checkpoints:
    def __init__(self, db: Db) -> None:
        self.db = db
        with db.transaction() as tx:
            tx.execute(
                "CREATE TABLE IF NOT EXISTS ledger_checkpoints (position BIGINT PRIMARY KEY,"
                " event_count BIGINT NOT NULL, digest TEXT NOT NULL,"
                " created_at TEXT NOT NULL)"
            )

    def list(self) -> list[Checkpoint]:
        with self.db.transaction() as tx:
            rows = tx.execute(
                "SELECT position, event_count, digest, created_at"
                " FROM ledger_checkpoints ORDER BY position"
            )
        return [
            Checkpoint(position=r[0], event_count=r[1], digest=r[2], created_at=r[3]) for r in rows
        ]

    def take(self, rows: EventRows) -> Checkpoint:
        """Digest the whole log as it stands and record it."""
        digest, count, position = hashlib.sha256(b"").hexdigest(), 0, 0
        for row in rows.all():
            digest, count, position = fold_digest(digest, row), count + 1, row.position
        checkpoint = Checkpoint(
            position=position,
            event_count=count,
            digest=digest,
            created_at=ts(datetime.now(UTC)) or "",
        )
        with self.db.transaction() as tx:
            earlier = tx.execute(
                "SELECT digest, created_at FROM ledger_checkpoints WHERE position = ?", [position]
            )
            if earlier and earlier[0][0] != digest:
                # Never overwrite a checkpoint: a different digest at the same position means
                # the log up to it changed since it was taken.
                raise ValueError(
                    f"the log up to position {position} no longer matches the"
                    f" checkpoint taken at {earlier[0][1]}"
                )
            if earlier:
                return checkpoint.model_copy(update={"created_at": earlier[0][1]})
            tx.execute(
                "INSERT INTO ledger_checkpoints VALUES (?, ?, ?, ?)",
                [position, count, digest, checkpoint.created_at],
            )
        return checkpoint
