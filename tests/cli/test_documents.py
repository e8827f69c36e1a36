"""`cims documents add/list/get` on both stores: the same checks as an upload, one line per
refusal, the bytes written back checked against their hash."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ledger.application import Ledger
from tests.cli.conftest import Cims, error_lines
from tests.factories import CARER, Impact, LedgerStory, T, under_investigation

pytestmark = pytest.mark.store
PDF = b"%PDF-1.7\n" + b"1 0 obj\n<< /Type /Catalog >>\nendobj\n" * 40 + b"%%EOF\n"
AS = ["--by", "ivan.investigator", "--organisation", "Northside CSO", "--role", "investigator"]


@pytest.fixture
def incident(database_url: str) -> str:
    ledger = Ledger.from_url(database_url)
    try:
        story = LedgerStory.report(
            ledger, types=[T.PHYSICAL_ABUSE], impact=Impact.MAJOR, subjects_of_allegation=[CARER]
        )
        under_investigation(story)
        return str(story.incident_id)
    finally:
        ledger.close()


def test_a_document_is_added_listed_and_got_back(cims: Cims, incident: str, tmp_path: Path) -> None:
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(PDF)

    added = cims("documents", "add", incident, str(letter), "--kind", "allegations_letter", *AS)

    assert added.exit_code == 0, added.stderr
    document_id = added.stdout.strip()
    listed = cims("documents", "list", incident, "--json")
    (item,) = json.loads(listed.stdout)
    assert item["document_id"] == document_id
    assert item["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert item["media_type"] == "application/pdf"
    copy = tmp_path / "copy.pdf"
    got = cims("documents", "get", incident[:8], document_id[:8], "-o", str(copy))
    assert got.exit_code == 0, got.stderr
    assert copy.read_bytes() == PDF
    table = cims("documents", "list", incident, env={"COLUMNS": "200"})
    assert "letter.pdf" in table.stdout


@pytest.mark.parametrize(
    ("content", "name", "rule"),
    [
        (b"", "empty.pdf", "document.empty"),
        (
            b"<!DOCTYPE html><html><script>x()</script></html>",
            "report.pdf",
            "document.type-contradicted",
        ),
        (b"<html><body>x</body></html>", "page.html", "document.type-not-allowed"),
    ],
)
def test_a_bad_file_is_refused_in_one_line_naming_the_rule(
    cims: Cims, incident: str, tmp_path: Path, content: bytes, name: str, rule: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    refused = cims("documents", "add", incident, str(path), "--kind", "evidence", *AS)

    assert refused.exit_code != 0
    (line,) = error_lines(refused)
    assert rule in line
    assert json.loads(cims("documents", "list", incident, "--json").stdout) == []


def test_too_large_missing_file_and_unknown_document_are_one_line(
    cims: Cims, incident: str, tmp_path: Path
) -> None:
    big = tmp_path / "big.pdf"
    big.write_bytes(PDF * 100)
    refused = cims(
        "documents",
        "add",
        incident,
        str(big),
        "--kind",
        "evidence",
        *AS,
        env={"CIMS_DOCUMENT_MAX_BYTES": "1000"},
    )
    (line,) = error_lines(refused)
    assert "document.too-large" in line

    missing = cims(
        "documents", "add", incident, str(tmp_path / "nope.pdf"), "--kind", "evidence", *AS
    )
    (line,) = error_lines(missing)
    assert missing.exit_code == 2 and "FILE" in line

    unknown = cims("documents", "get", incident, "abcdef12", "-o", str(tmp_path / "x"))
    (line,) = error_lines(unknown)
    assert unknown.exit_code == 1 and "no document" in line
