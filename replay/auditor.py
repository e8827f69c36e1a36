"""The auditor's view of the ledger: everything here reads the event store alone."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from uuid import UUID

import psycopg

from ledger.application import Ledger
from projections import audit_trail
from projections.db import Db
from replay import diff, export, history, verify
from replay.as_of import StateAsOf
from replay.checkpoint import Checkpoint, Checkpoints
from replay.diff import Diff
from replay.history import History
from replay.snapshots import FoldCache
from replay.store import EventRows
from replay.verify import LedgerVerification, Verification
from replay.witness import Witness


class Auditor:
    def __init__(
        self, ledger: Ledger, db: Db, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.ledger = ledger
        # "Now" for refusing a state as of the future.
        self.clock = clock or (lambda: datetime.now(UTC))
        self.rows = EventRows(ledger, db)
        # Folds kept between `state_as_of` calls; each is checked against the stored rows.
        self.folds = FoldCache(self.rows)
        self.checkpoints = Checkpoints(db)

    def history(self, incident_id: UUID) -> History:
        return history.history(self.rows, incident_id)

    def state_as_of(
        self, incident_id: UUID, *, at: datetime | None = None, version: int | None = None
    ) -> StateAsOf:
        return self.folds.state_as_of(incident_id, at=at, version=version, now=self.clock())

    def diff(self, incident_id: UUID, a: int | datetime, b: int | datetime) -> Diff:
        return diff.diff(self.ledger, incident_id, a, b, now=self.clock(), folds=self.folds)

    def verify(self, incident_id: UUID) -> Verification:
        return verify.verify(self.rows, incident_id)

    def verify_all(
        self,
        progress: Callable[[int], None] | None = None,
        kept_elsewhere: Sequence[Checkpoint] = (),
    ) -> LedgerVerification:
        found = verify.verify_all(self.rows, self.checkpoints, progress, kept_elsewhere)
        checked, problem = self.verify_access_log()
        return found.model_copy(
            update={
                "ok": found.ok and problem is None,
                "access_log_entries_checked": checked,
                "access_log_problem": problem,
            }
        )

    def verify_access_log(self) -> tuple[int, str | None]:
        """The access log's hash chain: (entries checked, the first problem or None)."""
        try:
            with self.rows.db.transaction(write=False) as tx:
                columns = tx.columns("rm_access_log")
        except (sqlite3.OperationalError, psycopg.errors.UndefinedTable):
            return 0, None  # no read was ever logged in this store
        if "hash" not in columns:
            return 0, None  # kept by a release before the chain: it starts on the next start
        with self.rows.db.transaction(write=False) as tx:
            return audit_trail.verify_access_log(tx)

    def export(self, incident_id: UUID, *, document_bytes: bool = True) -> bytes:
        return export.export(self.rows, incident_id, document_bytes=document_bytes)

    def checkpoint(self, witness: Witness | None = None) -> Checkpoint:
        taken = self.checkpoints.take(self.rows)
        if witness is not None:
            witness.send(taken)
        return taken

    def checkpoint_if_due(
        self, every: int, *, every_seconds: float = 0, witness: Witness | None = None
    ) -> Checkpoint | None:
        """A checkpoint every `every` events, and at least every `every_seconds` while the log
        grows; each one taken is sent to the `witness` outside the database, if any."""
        # Real time, not the auditor's "now": checkpoints are stamped with the wall clock.
        taken = self.checkpoints.take_if_due(self.rows, every, every_seconds=every_seconds)
        if taken is not None and witness is not None:
            witness.send(taken)
        return taken

    def checkpoints_when_caught_up(
        self, every: int, *, every_seconds: float = 0, witness: Witness | None = None
    ) -> Callable[[], object] | None:
        """What a read-model follower calls each time it catches up: `checkpoint_if_due` with
        these; None when `every` is 0 (no checkpoints)."""
        if every <= 0:
            return None
        return lambda: self.checkpoint_if_due(every, every_seconds=every_seconds, witness=witness)
