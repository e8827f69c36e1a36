"""Documents under audit, on both stores: `verify` re-hashes their stored bytes and names any
that changed; bundles carry them (or only their hashes) and `bundle_check` checks them offline."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli.main import app as cli_app
from domain.incident import Incident
from domain.values import DocumentKind, Stamp
from ledger.application import Ledger
from ledger.documents import CHUNK_BYTES, Limits, spool_bytes
from projections.db import Db
from replay.auditor import Auditor
from tests.factories import CARER, INVESTIGATOR, Impact, LedgerStory, T, under_investigation
from tests.replay.test_replay import rewrite

pytestmark = pytest.mark.store
LIMITS = Limits(max_bytes=10 * CHUNK_BYTES, allowed_types=frozenset({"application/pdf"}))
# Two chunks and a bit: a changed byte may fall in any chunk, at its edges too.
LETTER = b"%PDF-1.7\n" + bytes(range(256)) * (CHUNK_BYTES // 128) + b"tail%%EOF\n"


@pytest.fixture
def auditor(database_url: str, ledger: Ledger) -> Iterator[Auditor]:
    db = Db(database_url)
    try:
        yield Auditor(ledger, db)
    finally:
        db.close()


def with_letter(ledger: Ledger, data: bytes = LETTER) -> tuple[LedgerStory, Incident.DocumentAdded]:
    story = under_investigation(
        LedgerStory.report(
            ledger, types=[T.PHYSICAL_ABUSE], impact=Impact.MAJOR, subjects_of_allegation=[CARER]
        )
    )
    with spool_bytes(data, "letter.pdf", LIMITS) as spool:
        accepted = ledger.add_document(
            story.incident_id,
            spool.finish("letter.pdf"),
            DocumentKind.ALLEGATIONS_LETTER,
            expected_version=story.version,
            stamp=Stamp(actor=INVESTIGATOR, now=story.now),
        )
    story.version = accepted.version
    assert isinstance(accepted.event, Incident.DocumentAdded)
    return story, accepted.event


def chunks_sql(auditor: Auditor, statement: str, params: list[Any]) -> None:
    """SQL on the document chunks, around the ledger (as someone with database access)."""
    recorder: Any = auditor.ledger.recorder
    table = getattr(recorder, "chunks_table", None) or recorder.chunks_table_name
    if auditor.rows.db.postgres:
        statement = statement.replace("?", "%s")
        with recorder.datastore.get_connection() as conn, conn.transaction():
            conn.execute(statement.format(table=table), params)
    else:
        with recorder.datastore.transaction(commit=True) as c:
            c.execute(statement.format(table=table), params)


def change_byte(auditor: Auditor, sha256: str, at: int, xor: int) -> None:
    chunk_no, offset = divmod(at, CHUNK_BYTES)
    piece = bytearray(auditor.ledger.recorder.read_chunk(sha256, chunk_no))  # type: ignore[attr-defined]
    piece[offset] ^= xor
    chunks_sql(
        auditor,
        "UPDATE {table} SET bytes = ? WHERE sha256 = ? AND chunk_no = ?",
        [bytes(piece), sha256, chunk_no],
    )


def test_untouched_documents_verify(ledger: Ledger, auditor: Auditor) -> None:
    story, _ = with_letter(ledger)

    one = auditor.verify(story.incident_id)
    everything = auditor.verify_all()

    assert one.ok and one.documents_checked == 1 and one.changed_documents == []
    assert everything.ok and everything.documents_checked == 1


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(at=st.integers(min_value=0, max_value=len(LETTER) - 1), xor=st.integers(1, 255))
def test_changing_any_byte_of_a_stored_document_is_caught_by_verify(
    ledger: Ledger, auditor: Auditor, at: int, xor: int
) -> None:
    story, letter = stored_once(ledger)

    change_byte(auditor, letter.sha256, at, xor)
    try:
        one = auditor.verify(story.incident_id)
        everything = auditor.verify_all()
    finally:
        change_byte(auditor, letter.sha256, at, xor)  # the same xor puts it back

    assert not one.ok and not everything.ok
    (changed,) = one.changed_documents
    assert (changed.document_id, changed.file_name) == (letter.document_id, "letter.pdf")
    assert "altered" in changed.problem
    assert [c.document_id for c in everything.changed_documents] == [letter.document_id]
    assert one.problem is None  # the events' chain itself is whole
    assert auditor.verify(story.incident_id).ok


_ONCE: dict[int, tuple[LedgerStory, Incident.DocumentAdded]] = {}


def stored_once(ledger: Ledger) -> tuple[LedgerStory, Incident.DocumentAdded]:
    """One letter per ledger (per store), however many examples hypothesis runs."""
    if id(ledger) not in _ONCE:
        _ONCE.clear()
        _ONCE[id(ledger)] = with_letter(ledger)
    return _ONCE[id(ledger)]


def test_a_missing_chunk_is_caught_and_the_cli_names_the_document(
    ledger: Ledger, auditor: Auditor, database_url: str
) -> None:
    story, letter = with_letter(ledger)
    chunks_sql(auditor, "DELETE FROM {table} WHERE sha256 = ? AND chunk_no = 1", [letter.sha256])

    (changed,) = auditor.verify(story.incident_id).changed_documents
    assert changed.document_id == letter.document_id

    result = CliRunner().invoke(
        cli_app,
        ["replay", "verify", str(story.incident_id)],
        env={"CIMS_DATABASE_URL": database_url, "CIMS_CHECKPOINT_KEY": "c" * 32},
    )
    assert result.exit_code == 1
    assert str(letter.document_id) in result.stdout


def bundle_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "replay.bundle_check", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_bundle_carries_the_documents_and_is_checked_offline(
    ledger: Ledger, auditor: Auditor, tmp_path: Path
) -> None:
    story, letter = with_letter(ledger)
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(auditor.export(story.incident_id))

    members = zipfile.ZipFile(bundle).namelist()
    assert f"documents/{letter.sha256}" in members and "documents.json" in members
    passed = bundle_check(bundle)
    assert passed.returncode == 0, passed.stdout
    assert "1 re-hashed from their bytes" in passed.stdout

    # Altered bytes, even with the manifest recomputed to match, are found.
    forged = tmp_path / "forged.zip"
    altered = rewrite(bundle.read_bytes(), f"documents/{letter.sha256}", lambda b: b[:-1] + b"!")
    forged.write_bytes(rewrite(altered, None, lambda b: b))
    failed = bundle_check(forged)
    assert failed.returncode == 1
    assert "bytes do not match the SHA-256" in failed.stdout

    # Bytes removed from a bundle that says it carries them are found too.
    stripped = io.BytesIO()
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(stripped, "w") as target:
        for name in source.namelist():
            if not name.startswith("documents/"):
                target.writestr(name, source.read(name))
    missing = tmp_path / "missing.zip"
    missing.write_bytes(rewrite(stripped.getvalue(), None, lambda b: b))
    assert "missing from the bundle" in bundle_check(missing).stdout


def test_a_hashes_only_bundle_verifies_and_says_so(
    ledger: Ledger, auditor: Auditor, tmp_path: Path
) -> None:
    story, _ = with_letter(ledger)
    bundle = tmp_path / "hashes.zip"
    bundle.write_bytes(auditor.export(story.incident_id, document_bytes=False))

    assert not any(n.startswith("documents/") for n in zipfile.ZipFile(bundle).namelist())
    passed = bundle_check(bundle)
    assert passed.returncode == 0, passed.stdout
    assert "1 by hash only" in passed.stdout


def test_bytes_altered_in_the_store_give_a_bundle_that_fails_offline(
    ledger: Ledger, auditor: Auditor, tmp_path: Path
) -> None:
    story, letter = with_letter(ledger)
    change_byte(auditor, letter.sha256, 5, 1)
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(auditor.export(story.incident_id))

    assert bundle_check(bundle).returncode == 1
    assert hashlib.sha256(LETTER).hexdigest() == letter.sha256
