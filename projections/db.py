"""A small SQL layer over the ledger's own database (SQLite file or PostgreSQL schema)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool

from ledger.persistence import is_postgres

Row = tuple[Any, ...]


def ts(moment: datetime | None) -> str | None:
    """One fixed-width UTC text form, so instants compare correctly as strings in SQL."""
    if moment is None:
        return None
    if moment.tzinfo is UTC:  # the usual case (every stored instant): no conversion to make
        return moment.isoformat(timespec="microseconds")[:-6] + "Z"
    # isoformat with microseconds is the same text as strftime("%Y-%m-%dT%H:%M:%S.%f"), faster.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_ts(text: str | None) -> datetime | None:
    return (
        None
        if text is None
        else datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    )


# What a read model on PostgreSQL keeps in place of a NUL (U+0000), which its text cannot hold:
# the replacement character. No new text can hold one (domain/rules/text.py), but an event
# stored before that rule may, and its read models must still be built. SQLite keeps NUL.
NUL_KEPT_AS = "\ufffd"


def _storable(params: Sequence[Any]) -> Sequence[Any]:
    if not any(isinstance(p, str) and "\x00" in p for p in params):
        return params  # the usual case: nothing to copy
    return [p.replace("\x00", NUL_KEPT_AS) if isinstance(p, str) else p for p in params]


def _returns_rows(sql: str) -> bool:
    head = sql.lstrip()[:6].upper()
    return head in ("SELECT", "WITH ", "SHOW ") or "RETURNING" in sql.upper()


class Tx:
    """One open transaction; SQL is written with `?` placeholders for both databases. Text
    holding a NUL is kept on PostgreSQL with `NUL_KEPT_AS` in its place (see there)."""

    def __init__(self, cursor: Any, postgres: bool, pipelined: bool = False) -> None:
        self._cursor = cursor
        self.postgres = postgres
        self._pipelined = pipelined

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self._cursor.execute(self._sql(sql), tuple(self._storable(params)))
        if self._pipelined:
            # A pipelined statement's result is only waited for when its rows are wanted.
            return list(self._cursor.fetchall()) if _returns_rows(sql) else []
        return list(self._cursor.fetchall()) if self._cursor.description else []

    def columns(self, table: str) -> list[str]:
        self._cursor.execute(f"SELECT * FROM {table} WHERE 1 = 0")
        return [column[0] for column in self._cursor.description]

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._cursor.executemany(self._sql(sql), [tuple(self._storable(r)) for r in rows])

    def insert(self, table: str, rows: Sequence[Sequence[Any]], columns: str = "") -> None:
        """Append `rows` to `table` (values for all its columns in order, or for `columns`,
        comma-separated). On PostgreSQL outside pipeline mode this is one COPY stream, with no
        statement per row for the server to run; otherwise one `executemany`."""
        if not rows:
            return
        names = f" ({columns})" if columns else ""
        if self.postgres and not self._pipelined:
            with self._cursor.copy(f"COPY {table}{names} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(_storable(row))
            return
        marks = ", ".join("?" * len(rows[0]))
        self.executemany(f"INSERT INTO {table}{names} VALUES ({marks})", rows)

    def _storable(self, params: Sequence[Any]) -> Sequence[Any]:
        """`params` as PostgreSQL's text can hold them (a NUL kept as `NUL_KEPT_AS`); as they
        are on SQLite."""
        return _storable(params) if self.postgres else params

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql


class Db:
    """Transactions on the read-model tables, which live beside the events they are built from."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.postgres = is_postgres(database_url)
        self._local = threading.local()
        self._pool: ConnectionPool | None = None
        if self.postgres:
            self._pool = ConnectionPool(
                self.conninfo(),
                min_size=1,
                max_size=8,
                open=True,
                timeout=5,
            )
        else:
            self._path = database_url.removeprefix("sqlite:///")

    def conninfo(self) -> str:
        """A libpq URL for this database, with `?schema=` turned into the search path."""
        url = urlsplit(self.url)
        schema = parse_qs(url.query).get("schema")
        base = urlunsplit(("postgresql", url.netloc, url.path, "", ""))
        return base + (f"?options=-csearch_path%3D{schema[0]}" if schema else "")

    def drop_broken_connections(self) -> None:
        """After an outage: test each idle pooled connection and replace the dead ones (testing
        every one as it is handed out would cost a round trip on every request)."""
        if self._pool is not None:
            self._pool.check()

    def unsafe_durability(self) -> list[str]:
        """PostgreSQL settings under which a reported commit may not survive a crash; empty when
        all is well, and on SQLite (whose default, `synchronous=FULL`, syncs every commit)."""
        if not self.postgres:
            return []
        safe = {"fsync": {"on"}, "full_page_writes": {"on"}}
        safe["synchronous_commit"] = {"on", "remote_write", "remote_apply"}
        found = []
        with self.transaction(write=False) as tx:
            for name, allowed in safe.items():
                (value,) = tx.execute(f"SHOW {name}")[0]
                if value not in allowed:
                    found.append(f"{name}={value}")
        return found

    def probe(self) -> None:
        """Raise unless the database answers a new connection within a second."""
        if self.postgres:
            with psycopg.connect(self.conninfo(), connect_timeout=1) as conn:
                conn.execute("SELECT 1")
        else:
            with self.transaction(write=False) as tx:
                tx.execute("SELECT 1")

    @contextmanager
    def transaction(
        self, *, write: bool = True, pipelined: bool = False, durable: bool = True
    ) -> Iterator[Tx]:
        """One transaction. On SQLite a writing one takes the write lock at once (no upgrade
        deadlock); a reading one (`write=False`) takes none. On PostgreSQL a `pipelined` one
        sends its statements without waiting for each answer (one round trip for many writes,
        not one each); its errors surface by the commit at the latest.

        A transaction that is not `durable` does not wait for its commit to reach the disk
        (SQLite `synchronous=NORMAL` in WAL mode, PostgreSQL `synchronous_commit=off`): a
        crash may undo it, whole, but never leaves part of it. Only for rows that can be
        written again from the log (a rebuild's batches, each with its tracking position)."""
        if self._pool is not None:
            with (
                self._pool.connection() as pg,
                pg.transaction(),
                pg.pipeline() if pipelined else nullcontext(),
                pg.cursor() as pg_cursor,
            ):
                if not durable:
                    pg_cursor.execute("SET LOCAL synchronous_commit = off")
                yield Tx(pg_cursor, postgres=True, pipelined=pipelined)
            return
        conn = self._sqlite()
        cur = conn.cursor()
        try:
            if not durable:
                cur.execute("PRAGMA synchronous = NORMAL")
            cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield Tx(cur, postgres=False)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            if not durable:
                cur.execute("PRAGMA synchronous = FULL")  # the connection's default
            cur.close()

    def _sqlite(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self._path, timeout=15, isolation_level=None, check_same_thread=False
            )
            self._local.conn = conn
        return conn

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
