"""The stored rows of the event store, as written, with their positions in the log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.ledger import Ledger
from projections.db import Db


@dataclass(frozen=True)
class Row:
    position: int
    incident_id: UUID
    version: int
    topic: str
    state: bytes

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

    def all(self, batch: int = 1000, after: int = 0) -> Iterator[Row]:
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

    @staticmethod
    def _row(r: tuple[Any, ...]) -> Row:
        return Row(int(r[0]), UUID(str(r[1])), int(r[2]), str(r[3]), bytes(r[4]))
