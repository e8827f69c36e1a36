"""Fixtures: a clock, actors, and a ledger on each store (SQLite file; PostgreSQL schema)."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest

from ledger.application import Ledger

# The CLI's consoles are made when it is imported and keep the width COLUMNS gives them then, so
# a test's own COLUMNS (passed to one `cims` run) would be ignored were one set in the test
# process: pytest-xdist's workers inherit COLUMNS=80 and LINES=24 from the controller.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test has a node id of its own, or the run stops: pytest-xdist schedules by node
    id, and of several tests sharing one it would run a single one, silently.

    pytest 9.2 builds a test's node id from its function's name and its parametrisation;
    schemathesis names each operation's test `test_x[POST /v1/incidents]` but gives it no
    parametrisation, so all 69 came out as `test_x`. Each gets its operation back here."""
    counts = Counter(item.nodeid for item in items)
    for item in items:
        named = isinstance(item, pytest.Function) and item.name.startswith(item.originalname + "[")
        if counts[item.nodeid] > 1 and named and item.parent is not None:
            operation = item.name.removeprefix(item.originalname)[1:-1]
            item._id = item.parent.id.child(item.originalname).with_params(operation)
    repeated = sorted(n for n, count in Counter(i.nodeid for i in items).items() if count > 1)
    if repeated:
        raise pytest.UsageError(f"tests sharing a node id would not all run: {repeated}")


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
