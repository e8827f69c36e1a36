"""`cims backup` and `cims restore`: a consistent copy of the whole store, and that copy put back
into a new, empty store.

SQLite: the library's online backup (`sqlite3.Connection.backup`), which copies a consistent
snapshot of the file while the API goes on writing; restore copies a backup into a new file the
same way. PostgreSQL: `pg_dump --format=custom` (one snapshot of the schema or database: events,
receipts, checkpoints and read models together), and `pg_restore` into an empty database or
schema; both need PostgreSQL's client tools (of the server's major version or newer) on PATH.
Without them the command says so in one line and names the recipe in docs/operations.md.

A backup holds the events as written; verify what a restore gives with
`cims replay verify --all --checkpoint FILE` against a checkpoint exported before the backup and
kept elsewhere: a copy that lost or changed any event is then caught.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Annotated
from urllib.parse import unquote, urlsplit

import psycopg
import typer
from psycopg import sql

from cli.output import BadParameter, CliError, note
from cli.settings import database_url, store
from cli.store import describe, schema_of, sql_name, sqlite_path
from ledger.persistence import is_postgres

RECIPE = "docs/operations.md, “Backup and restore”"
SQLITE_EVENTS = "stored_events"


def backup(
    output: Annotated[Path, typer.Argument(help="the backup file to write (must not exist)")],
) -> None:
    """Write a consistent backup of the store to OUTPUT, while it stays in use.

    SQLite: a copy of the database file (the online backup API). PostgreSQL: `pg_dump`'s
    custom format of the store's schema (or database). Restore it with `cims restore`.
    """
    if output.exists():
        raise BadParameter("OUTPUT", f"{output} exists: a backup never overwrites a file")
    if not output.parent.is_dir():
        raise BadParameter("OUTPUT", f"no folder {output.parent}")
    url = store()
    if is_postgres(url):
        _pg_dump(url, output)
        size = output.stat().st_size
        note(f"backup: {output} (pg_dump custom format, {size:,} bytes); restore: cims restore")
        return
    source = sqlite_path(url)
    if source is None:
        raise CliError("an in-memory store cannot be backed up")
    partial = output.with_name(output.name + ".partial")
    try:
        _sqlite_copy(source, partial)
        events, head = _sqlite_events(partial)
        partial.replace(output)  # a backup file is whole, or absent
    finally:
        partial.unlink(missing_ok=True)
    note(
        f"backup: {output} ({output.stat().st_size:,} bytes, {events} events up to position"
        f" {head}); restore: cims restore"
    )


def restore(
    backup_file: Annotated[Path, typer.Argument(metavar="BACKUP", help="a `cims backup` file")],
) -> None:
    """Restore BACKUP into the configured store, which must be new and empty.

    SQLite: CIMS_DATABASE_URL names a file that does not exist yet. PostgreSQL: the database (or
    `?schema=`, the same schema the backup was taken from) holds no tables yet. A restore never
    writes over a store. Then check it: `cims replay verify --all --checkpoint FILE`.
    """
    if not backup_file.is_file():
        raise BadParameter("BACKUP", f"no file {backup_file}")
    url = database_url()
    note(f"store: {describe(url)} (restoring {backup_file} into it)")
    if is_postgres(url):
        _pg_restore(url, backup_file)
        note(f"restored {backup_file}")
    else:
        target = sqlite_path(url)
        if target is None:
            raise CliError("restore into a file: CIMS_DATABASE_URL=sqlite:///PATH")
        if target.exists():
            raise CliError(
                f"{target} exists: restore into a new file (set CIMS_DATABASE_URL to it),"
                " never over a store"
            )
        events, head = _sqlite_events(backup_file)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        try:
            _sqlite_copy(backup_file, partial)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        note(f"restored {events} events (up to position {head}) from {backup_file}")
    note("check it against a checkpoint kept elsewhere: cims replay verify --all --checkpoint FILE")


# ---- SQLite --------------------------------------------------------------------------------------


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of `source` (writers may go on) into the new file `target`."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            # A file that is a copy stands alone: no write-ahead log beside it to lose.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    except sqlite3.DatabaseError as exc:
        raise CliError(f"{source} is not a SQLite store: {exc}") from None
    finally:
        src.close()


def _sqlite_events(path: Path) -> tuple[int, int]:
    """How many events the SQLite file holds and its last position; a file that is not a
    sound CIMS store is a `CliError`."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            (check,) = conn.execute("PRAGMA quick_check").fetchone()
            if check != "ok":
                raise CliError(f"{path} is damaged: {check}")
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [SQLITE_EVENTS]
            ).fetchone()
            if found is None:
                raise CliError(f"{path} holds no CIMS events: not a backup of a store")
            count, head = conn.execute(
                f"SELECT count(*), coalesce(max(rowid), 0) FROM {SQLITE_EVENTS}"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise CliError(f"{path} is not a SQLite backup: {exc}") from None
    return int(count), int(head)


# ---- PostgreSQL ----------------------------------------------------------------------------------


def _client(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        raise CliError(
            f"{tool} is not on PATH: install PostgreSQL's client tools (the server's major"
            f" version or newer), or follow the recipe in {RECIPE}"
        )
    return found


def _libpq_env(url: str) -> dict[str, str]:
    """The connection as libpq's variables, so no password appears on a command line."""
    parts = urlsplit(url)
    env = {
        **os.environ,
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGDATABASE": unquote(parts.path.lstrip("/")) or "postgres",
        "PGUSER": unquote(parts.username or "postgres"),
        "PGCONNECT_TIMEOUT": "10",
    }
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return env


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit {done.returncode}"
        raise CliError(f"{what} failed: {reason}")


def _pg_dump(url: str, output: Path) -> None:
    schema = schema_of(url)
    argv = [_client("pg_dump"), "--format=custom", "--no-owner", "--no-privileges"]
    if schema is not None:
        argv += ["--schema", sql_name(schema)]
    partial = output.with_name(output.name + ".partial")
    try:
        _run([*argv, "--file", str(partial)], _libpq_env(url), "pg_dump")
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)


def _pg_restore(url: str, backup_file: Path) -> None:
    tool = _client("pg_restore")
    env = _libpq_env(url)
    listing = subprocess.run(
        [tool, "--list", str(backup_file)], env=env, capture_output=True, text=True, check=False
    )
    if listing.returncode != 0:
        raise CliError(f"{backup_file} is not a pg_dump custom-format backup")
    schema = schema_of(url)
    dumped = _dumped_schemas(listing.stdout)
    if schema is not None and schema not in dumped:
        held = ", ".join(sorted(dumped)) or "the default schema"
        raise CliError(
            f"{backup_file} holds {held}, not schema {schema!r}: restore into a new database"
            " with ?schema= naming the schema it was taken from"
        )
    _require_empty(url, schema)
    options = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    _run([tool, *options, "--dbname", env["PGDATABASE"], str(backup_file)], env, "pg_restore")


def _dumped_schemas(listing: str) -> set[str]:
    """The schemas a custom-format dump creates, from `pg_restore --list`."""
    found = set()
    for line in listing.splitlines():
        fields = line.split()
        # e.g. `6; 2615 16390 SCHEMA - t_abc postgres`
        if len(fields) >= 5 and not line.startswith(";") and fields[3] == "SCHEMA":
            found.add(fields[5] if fields[4] == "-" else fields[4])
    return found


def _require_empty(url: str, schema: str | None) -> None:
    """Refuse a target that holds any table; an empty schema of the backup's name is dropped,
    as the backup creates it."""
    parts = urlsplit(url)
    conninfo = parts._replace(scheme="postgresql", query="", fragment="").geturl()
    try:
        with psycopg.connect(conninfo, connect_timeout=10, autocommit=True) as conn:
            name = schema or "public"
            tables = conn.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'S')",
                [name],
            ).fetchone()
            if tables and tables[0]:
                raise CliError(
                    f"schema {name!r} of {describe(url)} already holds tables: restore into a"
                    " new, empty database or schema, never over a store"
                )
            if schema is not None:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {}").format(sql.Identifier(schema)))
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CliError(f"cannot prepare {describe(url)} for the restore: {reason}") from None
