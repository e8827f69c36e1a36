"""The API refuses to start on a PostgreSQL that could lose an acknowledged commit."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.main import UnsafeStore, create_app
from api.settings import Settings
from cli.main import app as cli_app


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    """A database of its own, since `synchronous_commit` is set per database here."""
    name = f"cims_guard_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.mark.parametrize("value", ["off", "local"])
def test_the_api_will_not_start_when_commits_are_not_waited_for(database: str, value: str) -> None:
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(
            f"ALTER DATABASE {database.rsplit('/', 1)[1]} SET synchronous_commit = {value}"
        )
    with pytest.raises(UnsafeStore, match=f"synchronous_commit={value}"):
        create_app(Settings(database_url=database, jwt_secret="x" * 40))


def test_the_same_database_with_durable_commits_starts(database: str) -> None:
    # The control: nothing but the setting differs.
    with TestClient(create_app(Settings(database_url=database, jwt_secret="x" * 40))) as client:
        assert client.get("/healthz").status_code == 200


def test_cims_demo_will_not_write_where_commits_are_not_waited_for(database: str) -> None:
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE {database.rsplit('/', 1)[1]} SET synchronous_commit = off")
    result = CliRunner().invoke(cli_app, ["demo"], env={"CIMS_DATABASE_URL": database})

    assert result.exit_code == 1 and "synchronous_commit=off" in result.output
    with psycopg.connect(database) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'cims_events'")
        assert tables.fetchone() == (0,)  # not even the ledger's table was made
