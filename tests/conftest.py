"""Fixtures: a clock, actors, and a ledger on each store (SQLite file; PostgreSQL schema)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest

from ledger.application import Ledger

POSTGRES_URL = os.environ.get("CIMS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    import psycopg

    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        return f"PostgreSQL at {POSTGRES_URL} is not reachable: {exc}".strip()
    return None


@pytest.fixture(scope="session")
def postgres_url() -> str:
    problem = _postgres_available()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"CI=true and {problem}: the PostgreSQL half of the suite must run")
        pytest.skip(problem)
    return POSTGRES_URL


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store of each kind: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cims.db'}"
        return
    import psycopg

    base = request.getfixturevalue("postgres_url")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{base}?schema={schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def schema_of(database_url: str) -> tuple[str, str]:
    """A PostgreSQL store URL's database URL and its `?schema=`, for SQL run around the ledger."""
    url = urlsplit(database_url)
    return urlunsplit((*url[:3], "", "")), parse_qs(url.query)["schema"][0]


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    app = Ledger.from_url(database_url)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def now() -> datetime:
    return datetime(2025, 3, 4, 1, 0, tzinfo=UTC)  # Tuesday 12:00 in Melbourne
