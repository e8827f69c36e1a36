"""Ledger checkpoints: the running digest of the whole log, kept so deletions are evident."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from projections.db import Db, parse_ts, ts
from replay.store import EventRows, Row


class Checkpoint(BaseModel):
    """The digest of every stored event up to `position`; export it to keep it elsewhere."""

    model_config = ConfigDict(frozen=True)

    position: int
    event_count: int
    digest: str
    created_at: str


def _signed_bytes(checkpoint: Checkpoint) -> bytes:
    return json.dumps(checkpoint.model_dump(mode="json"), sort_keys=True).encode()


def sign(checkpoint: Checkpoint, key: bytes) -> dict[str, object]:
    """The checkpoint with an HMAC-SHA256 signature, to keep outside the database."""
    mac = hmac.new(key, _signed_bytes(checkpoint), hashlib.sha256).hexdigest()
    return {**checkpoint.model_dump(mode="json"), "signature": mac}


def load_signed(data: dict[str, object], key: bytes) -> Checkpoint:
    """A checkpoint kept outside, once its signature is shown to be ours."""
    fields = {k: v for k, v in data.items() if k != "signature"}
    checkpoint = Checkpoint.model_validate(fields)
    expected = hmac.new(key, _signed_bytes(checkpoint), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, str(data.get("signature", ""))):
        raise ValueError("the checkpoint's signature does not match: it was altered or forged")
    return checkpoint


def fold_digest(digest: str, row: Row) -> str:
    """Chain one stored row, exactly as stored, into the running digest of the log:
    SHA-256 of the previous digest's hex followed by the hex SHA-256 of
    `position|incident|version|topic|` and the stored bytes."""
    item = hashlib.sha256(f"{row.position}|{row.incident_text}|{row.version}|{row.topic}|".encode())
    item.update(row.state)  # the stored bytes as they are, not copied onto the prefix
    return hashlib.sha256((digest + item.hexdigest()).encode()).hexdigest()


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
        with self.db.transaction(write=False) as tx:
            rows = tx.execute(
                "SELECT position, event_count, digest, created_at"
                " FROM ledger_checkpoints ORDER BY position"
            )
        return [
            Checkpoint(position=r[0], event_count=r[1], digest=r[2], created_at=r[3]) for r in rows
        ]

    def take(self, rows: EventRows) -> Checkpoint:
        """Digest the log up to its head and record it, carrying on from the last checkpoint
        (whose own digest verify_all checks from position 0)."""
        known = self.list()
        last = known[-1] if known else None
        digest = last.digest if last else hashlib.sha256(b"").hexdigest()
        count, position = (last.event_count, last.position) if last else (0, 0)
        for row in rows.all(after=position):
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
            # Two workers may take the same checkpoint at once: the second one's is the same.
            tx.execute(
                "INSERT INTO ledger_checkpoints VALUES (?, ?, ?, ?)"
                " ON CONFLICT (position) DO NOTHING",
                [position, count, digest, checkpoint.created_at],
            )
        return checkpoint

    def take_if_due(
        self,
        rows: EventRows,
        every: int,
        *,
        every_seconds: float = 0,
        now: datetime | None = None,
    ) -> Checkpoint | None:
        """A checkpoint once `every` more events have been logged since the last one, or, when
        any event has been logged since it, once `every_seconds` have passed since it was taken
        (0: by count alone): so events cut off the end of the log go unseen at most that long."""
        known = self.list()
        last = known[-1] if known else None
        position = last.position if last else 0
        head = rows.head()
        if head - position >= every:
            return self.take(rows)
        if head <= position or every_seconds <= 0:
            return None
        taken = parse_ts(last.created_at) if last else None
        moment = now or datetime.now(UTC)
        if taken is None or (moment - taken).total_seconds() >= every_seconds:
            return self.take(rows)
        return None
