"""The stored rows of the event store, as written, with their positions in the log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent
from psycopg.rows import tuple_row

from ledger.application import Ledger
from ledger.persistence import OrjsonTranscoder
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


_new_row = tuple.__new__


class EventRows:
    """Reads stored events straight from the ledger's table (SQLite or PostgreSQL).

    On PostgreSQL the rows are read through the ledger's own connection pool (the store the
    events live in) in binary format: `bytea` arrives as bytes, not hex to decode, which is
    most of the client's cost of reading the log."""

    def __init__(self, ledger: Ledger, db: Db) -> None:
        self.ledger = ledger
        self.db = db
        self._table = "cims_events" if db.postgres else "stored_events"
        self._position = "notification_id" if db.postgres else "rowid"
        # As text: a str keys the cache of ids below faster than a `uuid.UUID` (whose hash is
        # computed in Python).
        self._id = "CAST(originator_id AS text)" if db.postgres else "originator_id"
        # The UUID and its text for each stored id seen: a long log names few incidents often.
        self._ids: dict[Any, tuple[UUID, str]] = {}
        datastore = getattr(ledger.recorder, "datastore", None)
        self._pg = datastore if db.postgres and hasattr(datastore, "get_connection") else None

    def _select(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        """Rows of one read-only statement (`?` placeholders, `{table}` for the events)."""
        if self._pg is None:
            with self.db.transaction(write=False) as tx:
                return tx.execute(sql.format(table=self._table), params)
        table = f"{_quoted(self._pg.schema)}.{_quoted(self._table)}"
        with (
            self._pg.get_connection() as conn,
            conn.cursor(binary=True, row_factory=tuple_row) as cursor,
        ):
            cursor.execute(sql.format(table=table).replace("?", "%s"), params)
            found: list[tuple[Any, ...]] = cursor.fetchall()
            return found

    def of_incident(self, incident_id: UUID) -> list[Row]:
        cast = "CAST(? AS uuid)" if self.db.postgres else "?"
        rows = self._select(
            f"SELECT {self._position}, {self._id}, originator_version, topic, state"
            f" FROM {{table}} WHERE originator_id = {cast} ORDER BY originator_version",
            # The SQLite recorder keeps ids as 32 hex digits; PostgreSQL as uuid.
            [str(incident_id) if self.db.postgres else incident_id.hex],
        )
        return [self._row(r) for r in rows]

    def states_of(self, incident_id: UUID) -> list[tuple[str, bytes]]:
        """The topic and stored state of each of an incident's events, in version order (the
        rows `ledger.incident_events` decodes); empty when there are none."""
        cast = "CAST(? AS uuid)" if self.db.postgres else "?"
        return self._select(
            f"SELECT topic, state FROM {{table}} WHERE originator_id = {cast}"
            " ORDER BY originator_version",
            [str(incident_id) if self.db.postgres else incident_id.hex],
        )

    def all(self, batch: int = 5000, after: int = 0) -> Iterator[Row]:
        """Every stored event after position `after`, in log order, streamed in batches."""
        while True:
            rows = self._select(
                f"SELECT {self._position}, {self._id}, originator_version, topic, state"
                f" FROM {{table}} WHERE {self._position} > ?"
                f" ORDER BY {self._position} LIMIT ?",
                [after, batch],
            )
            yield from map(self._row, rows)
            if len(rows) < batch:
                return
            after = rows[-1][0]

    def head(self) -> int:
        return self.ledger.recorder.max_notification_id() or 0

    def count(self) -> int:
        """How many events are stored (the total a progress bar over `all()` counts up to)."""
        return int(self._select("SELECT COUNT(*) FROM {table}", [])[0][0])

    def decode(self, row: Row) -> dict[str, Any]:
        """The JSON state exactly as stored (decrypted and decompressed if configured)."""
        return self.ledger.mapper.decode_state(row.stored())  # type: ignore[attr-defined, no-any-return]

    def plain_decoder(self) -> Callable[[bytes], Any] | None:
        """`orjson.loads`, when the stored state is plain orjson (no cipher, no compression) and
        so `decode` is just that; None otherwise."""
        mapper = self.ledger.mapper
        plain = (
            getattr(mapper, "cipher", None) is None
            and getattr(mapper, "compressor", None) is None
            and type(mapper.transcoder) is OrjsonTranscoder
        )
        return orjson.loads if plain else None

    def event(self, row: Row) -> Any:
        return self.ledger.mapper.to_domain_event(row.stored())

    def decode_event(self, incident_id: UUID, index: int, topic: str, state: bytes) -> Any:
        """The domain event of one row of `states_of` (`index` counts from 0), decoded as the
        ledger decodes it: from its topic and stored bytes alone."""
        return self.ledger.mapper.to_domain_event(
            StoredEvent(
                originator_id=incident_id, originator_version=index + 1, topic=topic, state=state
            )
        )

    def _row(self, r: tuple[Any, ...]) -> Row:
        known = self._ids.get(r[1])
        if known is None:
            if len(self._ids) > 100_000:  # bounded: memory stays flat however long the log
                self._ids.clear()
            incident_id = UUID(str(r[1]))
            known = self._ids[r[1]] = (incident_id, str(incident_id))
        # `tuple.__new__` skips the NamedTuple's keyword-parsing constructor (a third of the
        # cost of a row); the driver already gives int, str and bytes (checked by a test).
        return _new_row(Row, (r[0], known[0], r[2], r[3], r[4], known[1]))


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
