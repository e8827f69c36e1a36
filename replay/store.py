"""The stored rows of the event store, as written, with their positions in the log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.ledger import Ledger
from projections.db import Db


class Row(NamedTuple):
    """One stored event as written. A tuple, not a dataclass: `verify_all` makes one per event
    of the log, and a frozen dataclass costs several times as much to build."""

    position: int
    incident_id: UUID
    version: int
    topic: str
    state: bytes
    # `str(incident_id)`, made once per incident rather than once per use per row.
    incident_text: str

    def stored(self) -> StoredEvent:
        return StoredEvent(
            originator_id=self.incident_id,
            originator_version=self.version,
            topic=self.topic,
            state=self.state,
        )


class EventRows:
    """Reads stored events straight from the ledger's table (SQLite or PostgreSQL)."""

    def __init__(self, ledger: Ledger, db: Db) -> None:
        self.ledger = ledger
        self.db = db
        self._table = "cims_events" if db.postgres else "stored_events"
        self._position = "notification_id" if db.postgres else "rowid"
        # The UUID and its text for each stored id seen: a long log names few incidents often.
        self._ids: dict[Any, tuple[UUID, str]] = {}

    def of_incident(self, incident_id: UUID) -> list[Row]:
        cast = "CAST(? AS uuid)" if self.db.postgres else "?"
        with self.db.transaction(write=False) as tx:
            rows = tx.execute(
                f"SELECT {self._position}, originator_id, originator_version, topic, state"
                f" FROM {self._table} WHERE originator_id = {cast}"
                " ORDER BY originator_version",
                # The SQLite recorder keeps ids as 32 hex digits; PostgreSQL as uuid.
                [str(incident_id) if self.db.postgres else incident_id.hex],
            )
        return [self._row(r) for r in rows]

    def all(self, batch: int = 5000, after: int = 0) -> Iterator[Row]:
        """Every stored event after position `after`, in log order, streamed in batches."""
        while True:
            with self.db.transaction(write=False) as tx:
                rows = tx.execute(
                    f"SELECT {self._position}, originator_id, originator_version, topic, state"
                    f" FROM {self._table} WHERE {self._position} > ?"
                    f" ORDER BY {self._position} LIMIT ?",
                    [after, batch],
                )
            for r in rows:
                yield self._row(r)
            if len(rows) < batch:
                return
            after = rows[-1][0]

    def head(self) -> int:
        return self.ledger.recorder.max_notification_id() or 0

    def count(self) -> int:
        """How many events are stored (the total a progress bar over `all()` counts up to)."""
        with self.db.transaction(write=False) as tx:
            return int(tx.execute(f"SELECT COUNT(*) FROM {self._table}")[0][0])

    def decode(self, row: Row) -> dict[str, Any]:
        """The JSON state exactly as stored (decrypted and decompressed if configured)."""
        return self.ledger.mapper.decode_state(row.stored())  # type: ignore[attr-defined, no-any-return]

    def event(self, row: Row) -> Any:
        return self.ledger.mapper.to_domain_event(row.stored())

    def _row(self, r: tuple[Any, ...]) -> Row:
        known = self._ids.get(r[1])
        if known is None:
            if len(self._ids) > 100_000:  # bounded: memory stays flat however long the log
                self._ids.clear()
            incident_id = UUID(str(r[1]))
            known = self._ids[r[1]] = (incident_id, str(incident_id))
        return Row(int(r[0]), known[0], int(r[2]), str(r[3]), bytes(r[4]), known[1])
