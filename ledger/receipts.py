"""Command receipts: a client's idempotency key, reserved in the same transaction as the events
its command recorded.

A receipt says "principal P's key K, first used with the request whose fingerprint is F, was
answered by incident I at version V". It is written by the store's own event-inserting
transaction (the recorders below add one `INSERT` to it), so a command and its receipt commit
together or not at all: there is no moment when the events exist without the receipt, or the
receipt without the events. The receipt's primary key (organisation, subject, key) is what makes
a repeated or concurrent use of one key lose the race cleanly: the second transaction fails on
it, nothing of its command is recorded, and the ledger answers from the first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore
from eventsourcing.utils import retry

RECEIPTS_SUFFIX = "_receipts"
# The advisory lock held while the log's tables and functions are set up (arbitrary, fixed).
CREATE_LOCK = 0x43494D53_4C4F_4721 & 0x7FFF_FFFF_FFFF_FFFF


@dataclass(frozen=True)
class CommandKey:
    """An `Idempotency-Key` as the ledger keeps it: scoped to the principal who sent it
    (organisation and subject), with the fingerprint of the request it was first used for."""

    organisation: str
    subject: str
    key: str
    fingerprint: str


@dataclass(frozen=True)
class Receipt:
    """A key reserved for the command that recorded `incident_id` at `version`."""

    key: CommandKey
    incident_id: UUID
    version: int


@dataclass(frozen=True)
class Found:
    """A stored receipt: the request fingerprint it was made for and the event that answered."""

    fingerprint: str
    incident_id: UUID
    version: int


class ReceiptSQLiteRecorder(SQLiteApplicationRecorder):
    """The library's SQLite recorder, writing the receipts of a save in its transaction."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        self.receipts_table_name = events_table_name.removesuffix("_events") + RECEIPTS_SUFFIX
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {self.receipts_table_name} ("
            "organisation TEXT NOT NULL, subject TEXT NOT NULL, idem_key TEXT NOT NULL, "
            "fingerprint TEXT NOT NULL, originator_id TEXT NOT NULL, "
            "originator_version INTEGER NOT NULL, "
            "PRIMARY KEY (organisation, subject, idem_key))",
        ]

    def _insert_events(
        self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        receipts: Sequence[Receipt] = kwargs.get("receipts") or ()
        for r in receipts:
            c.execute(
                f"INSERT INTO {self.receipts_table_name} VALUES (?, ?, ?, ?, ?, ?)",
                (
                    r.key.organisation,
                    r.key.subject,
                    r.key.key,
                    r.key.fingerprint,
                    r.incident_id.hex,
                    r.version,
                ),
            )
        return super()._insert_events(c, stored_events, **kwargs)

    def find_receipt(self, organisation: str, subject: str, key: str) -> Found | None:
        """The receipt this principal's key was reserved with, if any."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT fingerprint, originator_id, originator_version"
                f" FROM {self.receipts_table_name}"
                " WHERE organisation = ? AND subject = ? AND idem_key = ?",
                (organisation, subject, key),
            )
            row = c.fetchone()
        return None if row is None else Found(row[0], UUID(row[1]), int(row[2]))

    def position_of(self, incident_id: UUID, version: int) -> int | None:
        """The notification log position of one stored event."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid FROM {self.events_table_name}"
                " WHERE originator_id = ? AND originator_version = ?",
                (incident_id.hex, version),
            )
            row = c.fetchone()
        return None if row is None else int(row[0])


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class ReceiptPostgresRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder, writing the receipts of a save in its transaction.

    A save is one call of a server-side function (`cims_insert_<events table>`, made with the
    tables), one statement and so one transaction: the receipts, then the library's
    `SET LOCAL lock_timeout` and `LOCK TABLE … IN EXCLUSIVE MODE` (the log in commit order),
    its `NOTIFY`, and the events' insert returning their notification ids. The library's own
    way is the same statements pipelined in one transaction; this is one prepared statement
    and one round trip, measured at a seventh of the client CPU. The receipts are inserted
    before the events table is locked: a second use of a key that is still being committed
    waits on the receipt's key, not while holding the log's lock. A taken key or version fails
    the whole statement with a unique violation (the library's `IntegrityError`), recording
    nothing."""

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        name = events_table_name.removesuffix("_events") + RECEIPTS_SUFFIX
        self.check_identifier_length(name)
        schema = _quoted(self.datastore.schema)
        self.receipts_table = f"{schema}.{_quoted(name)}"
        self.events_table = f"{schema}.{_quoted(self.events_table_name)}"
        self.create_receipts_statement = (
            f"CREATE TABLE IF NOT EXISTS {self.receipts_table} ("
            "organisation text NOT NULL, subject text NOT NULL, idem_key text NOT NULL, "
            "fingerprint text NOT NULL, originator_id uuid NOT NULL, "
            "originator_version bigint NOT NULL, "
            "PRIMARY KEY (organisation, subject, idem_key))"
        )

        function = f"{schema}.{_quoted('cims_insert_' + self.events_table_name)}"
        self.check_identifier_length("cims_insert_" + self.events_table_name)
        event_type = f"{schema}.{_quoted(self.stored_event_type_name)}"
        self.create_insert_function_statement = (
            f"CREATE OR REPLACE FUNCTION {function}(events {event_type}[], receipts jsonb) "
            "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ BEGIN "
            f"INSERT INTO {self.receipts_table} (organisation, subject, idem_key, fingerprint, "
            "originator_id, originator_version) "
            "SELECT r.organisation, r.subject, r.idem_key, r.fingerprint, r.originator_id, "
            "r.originator_version FROM jsonb_to_recordset(receipts) AS r(organisation text, "
            "subject text, idem_key text, fingerprint text, originator_id uuid, "
            "originator_version bigint); "
            f"SET LOCAL lock_timeout = '{self.datastore.lock_timeout}s'; "
            f"LOCK TABLE {self.events_table} IN EXCLUSIVE MODE; "
            f"NOTIFY {_quoted(self.channel_name)}; "
            f"RETURN QUERY INSERT INTO {self.events_table} AS t "
            "(originator_id, originator_version, topic, state) "
            "SELECT e.originator_id, e.originator_version, e.topic, e.state "
            "FROM unnest(events) AS e RETURNING t.notification_id; "
            "END; $BODY$"
        )
        # The receipts travel as one JSON array: one parameter, not six arrays to adapt.
        self.insert_function_statement = (
            f"SELECT * FROM {function}(%s::{event_type}[], %s::jsonb) AS notification_id"
        )

    def create_table(self) -> None:
        """The library's set-up, one process at a time: processes starting together (several
        API processes, the workers) would otherwise race on `CREATE TYPE` (a unique violation)
        and `CREATE OR REPLACE FUNCTION` ("tuple concurrently updated"). The advisory lock is
        held on a connection of its own for the length of the set-up."""
        with self.datastore.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (CREATE_LOCK,), prepare=False)
            try:
                super().create_table()
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (CREATE_LOCK,), prepare=False)

    def _create_table(self, curs: Any) -> None:
        super()._create_table(curs)
        curs.execute(self.create_receipts_statement, prepare=False)
        curs.execute(self.create_insert_function_statement, prepare=False)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Insert the events and the receipts in `kwargs["receipts"]` in one statement; the
        events' notification ids, in order. Raises the library's `IntegrityError` when an
        event's (incident, version) or a receipt's key is taken, and nothing is recorded."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                self.insert_function_statement,
                self.insert_params(stored_events, kwargs),
                prepare=True,
            )
            return [row["notification_id"] for row in curs.fetchall()]

    def insert_params(
        self, stored_events: Sequence[StoredEvent], kwargs: dict[str, Any]
    ) -> tuple[Any, str]:
        """The parameters of `insert_function_statement`: the events, and the receipts in
        `kwargs["receipts"]` as one JSON array."""
        receipts: Sequence[Receipt] = kwargs.get("receipts") or ()
        events = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        return (
            events,
            json.dumps(
                [
                    {
                        "organisation": r.key.organisation,
                        "subject": r.key.subject,
                        "idem_key": r.key.key,
                        "fingerprint": r.key.fingerprint,
                        "originator_id": str(r.incident_id),
                        "originator_version": r.version,
                    }
                    for r in receipts
                ]
            ),
        )

    def find_receipt(self, organisation: str, subject: str, key: str) -> Found | None:
        """The receipt this principal's key was reserved with, if any."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                f"SELECT fingerprint, originator_id, originator_version FROM {self.receipts_table}"
                " WHERE organisation = %s AND subject = %s AND idem_key = %s",
                (organisation, subject, key),
            )
            row = curs.fetchone()
        if row is None:
            return None
        return Found(
            row["fingerprint"], UUID(str(row["originator_id"])), int(row["originator_version"])
        )

    def position_of(self, incident_id: UUID, version: int) -> int | None:
        """The notification log position of one stored event."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                f"SELECT notification_id FROM {self.events_table}"
                " WHERE originator_id = %s AND originator_version = %s",
                (incident_id, version),
            )
            row = curs.fetchone()
        return None if row is None else int(row["notification_id"])
