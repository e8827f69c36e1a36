"""`cims backup` and `cims restore` on both stores (issue 23 item 2): a checkpoint exported before
the backup verifies the restored store with `cims replay verify --all --checkpoint`, and a restore
never writes over a store."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from typer.testing import CliRunner, Result

from cli.main import app
from ledger.application import Ledger
from tests.factories import LedgerStory

STRONG = {"CIMS_FEED_SECRET": "f" * 32, "CIMS_CHECKPOINT_KEY": "c" * 32}


def cims(url: str, *args: str, **env: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"CIMS_DATABASE_URL": url, **STRONG, **env})


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def errors(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if not line.startswith("store: ")]


@pytest.fixture
def empty_store(database_url: str, tmp_path: Path) -> Iterator[str]:
    """Where a restore goes: a SQLite path not yet written, or a new PostgreSQL database (the
    backup's schema is created in it by the restore)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'cims.db'}"
        return
    parts = urlsplit(database_url)
    name = f"restore_{uuid.uuid4().hex[:12]}"
    server = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_a_restored_backup_verifies_against_a_checkpoint_exported_before_it(
    database_url: str, empty_store: str, tmp_path: Path
) -> None:
    kept = tmp_path / "checkpoint.json"
    backup = tmp_path / "cims.backup"
    ok(cims(database_url, "demo"))
    ok(cims(database_url, "replay", "checkpoint", "--export", str(kept)))
    checkpoint = json.loads(kept.read_text())

    ok(cims(database_url, "backup", str(backup)))
    ok(cims(empty_store, "restore", str(backup)))
    verified = ok(cims(empty_store, "replay", "verify", "--all", "--checkpoint", str(kept)))

    found = json.loads(verified.stdout)
    assert found["ok"] is True and found["checkpoint_problem"] is None
    assert found["events_checked"] == checkpoint["event_count"] > 0
    assert found["checkpoints_checked"] >= 1
    listed = ok(cims(empty_store, "incidents", "list", "--json"))
    assert len(json.loads(listed.stdout)) == len(
        json.loads(ok(cims(database_url, "incidents", "list", "--json")).stdout)
    )


def test_a_backup_that_lost_events_fails_verification(tmp_path: Path) -> None:
    """The check a restore relies on can fail: an event missing from before the checkpoint is
    found (shown on SQLite, whose backup file can be edited in place)."""
    store, restored = f"sqlite:///{tmp_path / 'cims.db'}", f"sqlite:///{tmp_path / 'new.db'}"
    kept = tmp_path / "checkpoint.json"
    backup = tmp_path / "cims.backup"
    ok(cims(store, "demo"))
    ok(cims(store, "replay", "checkpoint", "--export", str(kept)))
    ok(cims(store, "backup", str(backup)))
    with sqlite3.connect(backup) as conn:
        conn.execute(
            "DELETE FROM stored_events WHERE rowid = (SELECT max(rowid) FROM stored_events)"
        )
    ok(cims(restored, "restore", str(backup)))

    verified = cims(restored, "replay", "verify", "--all", "--checkpoint", str(kept))

    assert verified.exit_code == 1
    assert "events were removed or altered" in json.loads(verified.stdout)["checkpoint_problem"]


def test_restore_never_writes_over_a_store(database_url: str, tmp_path: Path) -> None:
    backup = tmp_path / "cims.backup"
    ok(cims(database_url, "demo"))
    ok(cims(database_url, "backup", str(backup)))

    refused = cims(database_url, "restore", str(backup))

    assert refused.exit_code == 1
    (line,) = errors(refused)
    assert line.startswith("cims: error: ") and "never over a store" in line


def test_a_backup_never_overwrites_a_file(database_url: str, tmp_path: Path) -> None:
    backup = tmp_path / "cims.backup"
    backup.write_text("an earlier backup")
    ok(cims(database_url, "demo"))

    refused = cims(database_url, "backup", str(backup))

    assert refused.exit_code == 2
    assert errors(refused) == [
        f"cims: error: OUTPUT: {backup} exists: a backup never overwrites a file"
    ]
    assert backup.read_text() == "an earlier backup"


def test_a_file_that_is_not_a_backup_is_refused(database_url: str, tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup")
    target = (
        f"sqlite:///{tmp_path / 'new.db'}" if database_url.startswith("sqlite") else database_url
    )

    refused = cims(target, "restore", str(junk))

    assert refused.exit_code == 1
    (line,) = errors(refused)
    assert "not a" in line and str(junk) in line
    assert not (tmp_path / "new.db").exists()


def test_without_pg_dump_the_backup_names_the_recipe(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no PostgreSQL client tools here

    refused = cims(postgres_url, "backup", str(tmp_path / "cims.backup"))

    assert refused.exit_code == 1
    (line,) = errors(refused)
    assert "pg_dump is not on PATH" in line and "docs/operations.md" in line


def test_a_backup_taken_while_incidents_are_reported_is_whole(
    database_url: str, empty_store: str, tmp_path: Path
) -> None:
    """Online: the store keeps taking commands during the backup, and what the backup holds is
    one consistent moment (every chain whole, the log without holes)."""
    backup = tmp_path / "cims.backup"
    ok(cims(database_url, "demo"))
    demo = json.loads(ok(cims(database_url, "replay", "verify", "--all")).stdout)
    ledger = Ledger.from_url(database_url)
    stop, written = threading.Event(), [0]

    def report_until_stopped() -> None:
        while not stop.is_set():
            LedgerStory.report(ledger)
            written[0] += 1

    writer = threading.Thread(target=report_until_stopped)
    writer.start()
    try:
        while written[0] < 3:
            time.sleep(0.01)
        ok(cims(database_url, "backup", str(backup)))
        during = written[0]
        while written[0] < during + 3:
            time.sleep(0.01)
    finally:
        stop.set()
        writer.join()
        ledger.close()
    ok(cims(empty_store, "restore", str(backup)))

    verified = json.loads(ok(cims(empty_store, "replay", "verify", "--all")).stdout)
    everything = json.loads(ok(cims(database_url, "replay", "verify", "--all")).stdout)
    assert verified["ok"] and everything["ok"]
    before = demo["incidents_checked"]
    assert 3 <= verified["incidents_checked"] - before < everything["incidents_checked"] - before


@pytest.fixture
def new_database(postgres_url: str) -> Iterator[Callable[[], str]]:
    """Makes empty PostgreSQL databases (no `?schema=`: the default schema), dropped after."""
    parts = urlsplit(postgres_url)
    server = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    made: list[str] = []

    def make() -> str:
        name = f"whole_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        made.append(name)
        return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))

    yield make
    with psycopg.connect(server, autocommit=True) as conn:
        for name in made:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_a_whole_postgresql_database_restores_into_a_new_one(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    source, target = new_database(), new_database()
    kept, backup = tmp_path / "checkpoint.json", tmp_path / "cims.backup"
    ok(cims(source, "demo"))
    ok(cims(source, "replay", "checkpoint", "--export", str(kept)))

    ok(cims(source, "backup", str(backup)))
    ok(cims(target, "restore", str(backup)))
    again = cims(target, "restore", str(backup))

    verified = json.loads(
        ok(cims(target, "replay", "verify", "--all", "--checkpoint", str(kept))).stdout
    )
    assert (
        verified["ok"] and verified["events_checked"] == json.loads(kept.read_text())["event_count"]
    )
    assert again.exit_code == 1 and "never over a store" in errors(again)[-1]
