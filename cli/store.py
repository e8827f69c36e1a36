"""Which store a command uses, said on stderr, and made ready (or refused) before it is opened.

Run in the wrong folder, a reading command used to open (and so create) an empty `./cims.db` and
report nothing; a PostgreSQL URL naming a schema that does not exist failed with a long
traceback. Now every command names its store first; commands that write (`serve`, `demo`,
`projections run`) create what is missing and say so; commands that only read refuse a missing
store in one line that says how to get one.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
from psycopg import sql

from cli.output import CliError, note
from ledger.persistence import is_postgres

WHERE = "CIMS_DATABASE_URL"


def sqlite_path(url: str) -> Path | None:
    """The file of a `sqlite:///PATH` URL, absolute; None for an in-memory store."""
    path = url.removeprefix("sqlite:///") or "cims.db"
    return None if path == ":memory:" else Path(path).absolute()


def schema_of(url: str) -> str | None:
    """The `?schema=NAME` of a PostgreSQL URL, if it names one."""
    found = parse_qs(urlsplit(url).query).get("schema")
    return found[0] if found else None


def describe(url: str) -> str:
    """The store in words, without its password: `SQLite /srv/cims.db` or
    `PostgreSQL cims@db:5432/cims, schema tenant_a`."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = sqlite_path(url)
        return "SQLite in memory" if path is None else f"SQLite {path}"
    if is_postgres(url):
        user = f"{parts.username}@" if parts.username else ""
        where = f"{user}{parts.hostname or '127.0.0.1'}:{parts.port or 5432}"
        database = parts.path.lstrip("/") or "postgres"
        schema = schema_of(url)
        return f"PostgreSQL {where}/{database}, " + (
            f"schema {schema}" if schema else "default schema"
        )
    raise CliError(
        f"{WHERE}: unsupported store {parts.scheme or url!r}:"
        " use sqlite:///PATH or postgresql://USER@HOST:PORT/DB[?schema=NAME]"
    )


def prepare(url: str, *, create: bool) -> str:
    """Say on stderr which store this command uses, and make sure it exists.

    With `create`, a missing SQLite file or PostgreSQL schema is created (and that is said);
    without it, a missing store is a `CliError` naming it and how to make one. Returns the URL.
    """
    told = describe(url)
    if is_postgres(url):
        created = _postgres_schema(url, create=create)
    else:
        path = sqlite_path(url)
        created = path is not None and not path.exists()
        if created and not create:
            unset = "" if os.environ.get(WHERE) else f" ({WHERE} is not set, so ./cims.db)"
            raise CliError(
                f"no store at {path}{unset}: run this where the store is, set {WHERE},"
                " or write one with `cims demo`"
            )
    note(f"store: {told}" + (" (new, empty: created now)" if created else ""))
    return url


def _postgres_schema(url: str, *, create: bool) -> bool:
    """True when the URL's schema was missing and has just been created."""
    schema = schema_of(url)
    parts = urlsplit(url)
    conninfo = parts._replace(scheme="postgresql", query="", fragment="").geturl()
    where = f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432}/{parts.path.lstrip('/')}"
    try:
        with psycopg.connect(conninfo, connect_timeout=5, autocommit=True) as conn:
            if (
                schema is None
                or conn.execute(
                    "SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]
                ).fetchone()
            ):
                return False
            if not create:
                raise CliError(
                    f"schema {schema!r} does not exist in {where}: `cims demo` or `cims serve`"
                    f" creates it, or run CREATE SCHEMA {sql_name(schema)} in psql"
                )
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            return True
    except psycopg.errors.InsufficientPrivilege:
        raise CliError(
            f"schema {schema!r} does not exist in {where} and this user may not create it:"
            f" ask the database owner to run CREATE SCHEMA {sql_name(schema or '')}"
            f" AUTHORIZATION {parts.username or 'postgres'}"
        ) from None
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise CliError(f"cannot reach PostgreSQL at {where}: {reason}") from None


def sql_name(name: str) -> str:
    """A schema name as it must be written in SQL (quoted when it is not a plain identifier)."""
    plain = name.isidentifier() and name == name.lower() and name.isascii()
    return name if plain else '"' + name.replace('"', '""') + '"'
