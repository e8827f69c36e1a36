"""Document bytes in the ledger's own database, on both stores: written with their event or
not at all, content-addressed, read back chunk by chunk, the upload's spool always removed."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from uuid import UUID

import pytest

from domain.errors import PolicyViolation, VersionConflict
from domain.incident import Incident
from domain.values import DocumentKind, Stamp
from ledger.application import Ledger
from ledger.documents import CHUNK_BYTES, Limits, Spool, sniff, spool_bytes
from tests.factories import INVESTIGATOR, START, LedgerStory, under_investigation

PDF = b"%PDF-1.7\n" + b"1 0 obj\n<< /Type /Catalog >>\nendobj\n" * 40 + b"%%EOF\n"
LIMITS = Limits(
    max_bytes=5 * CHUNK_BYTES,
    allowed_types=frozenset({"application/pdf", "text/plain", "image/png"}),
)


def investigation(ledger: Ledger) -> LedgerStory:
    return under_investigation(LedgerStory.report(ledger, **major_abuse()))


def major_abuse() -> dict[str, object]:
    from tests.factories import CARER, Impact, T

    return {"types": [T.PHYSICAL_ABUSE], "impact": Impact.MAJOR, "subjects_of_allegation": [CARER]}


def add(ledger: Ledger, story: LedgerStory, data: bytes, name: str = "letter.pdf", **kw: object):
    with spool_bytes(data, name, LIMITS, directory=kw.pop("directory", None)) as spool:
        accepted = ledger.add_document(
            story.incident_id,
            spool.finish(name),
            kw.pop("kind", DocumentKind.ALLEGATIONS_LETTER),  # type: ignore[arg-type]
            expected_version=story.version,
            stamp=Stamp(actor=INVESTIGATOR, now=story.now),
            **kw,  # type: ignore[arg-type]
        )
    story.version = accepted.version
    return accepted


@pytest.mark.store
def test_a_document_is_stored_with_its_event_and_read_back_chunk_by_chunk(
    ledger: Ledger, spool_dir: Path
) -> None:
    story = investigation(ledger)
    data = PDF + os.urandom(2 * CHUNK_BYTES + 5)  # three chunks, the last of 5 bytes and more

    accepted = add(ledger, story, data, directory=str(spool_dir))

    event = accepted.event
    assert isinstance(event, Incident.DocumentAdded)
    assert event.sha256 == hashlib.sha256(data).hexdigest()
    assert (event.size, event.media_type) == (len(data), "application/pdf")
    pieces = list(ledger.document_bytes(event.sha256))
    assert [len(p) for p in pieces][:2] == [CHUNK_BYTES, CHUNK_BYTES]
    assert b"".join(pieces) == data
    assert ledger.rehash_document(event.sha256) == (event.sha256, len(data))
    assert list(spool_dir.iterdir()) == []  # the spool is gone


@pytest.mark.store
def test_a_refused_document_leaves_neither_event_nor_bytes(ledger: Ledger, spool_dir: Path) -> None:
    story = investigation(ledger)
    stale = story.version - 1
    data = PDF + b"refused"

    with spool_bytes(data, "letter.pdf", LIMITS, directory=str(spool_dir)) as spool:
        upload = spool.finish("letter.pdf")
        with pytest.raises(VersionConflict):
            ledger.add_document(
                story.incident_id,
                upload,
                DocumentKind.ALLEGATIONS_LETTER,
                expected_version=stale,
                stamp=Stamp(actor=INVESTIGATOR, now=START),
            )

    assert list(ledger.document_bytes(hashlib.sha256(data).hexdigest())) == []
    assert len(ledger.incident_events(story.incident_id)) == story.version
    assert list(spool_dir.iterdir()) == []


@pytest.mark.store
def test_a_save_that_fails_in_its_transaction_leaves_no_bytes(ledger: Ledger) -> None:
    story = investigation(ledger)
    other = Ledger(env=ledger.env)
    try:
        # Another process records the next version first: our insert loses on the event's key
        # after its chunks were written in the same transaction, which rolls them back.
        add(other, investigation_of(other, story), PDF + b"theirs", kind=DocumentKind.EVIDENCE)
        data = PDF + b"ours"
        with spool_bytes(data, "ours.pdf", LIMITS) as spool:
            upload = spool.finish("ours.pdf")
            events = ledger.incident_events(story.incident_id)[: story.version - 1]
            with pytest.raises(VersionConflict):
                ledger.add_document(
                    story.incident_id,
                    upload,
                    DocumentKind.EVIDENCE,
                    expected_version=story.version - 1,
                    stamp=Stamp(actor=INVESTIGATOR, now=START),
                    history=events,
                )
        assert list(ledger.document_bytes(hashlib.sha256(data).hexdigest())) == []
    finally:
        other.close()


def investigation_of(ledger: Ledger, story: LedgerStory) -> LedgerStory:
    copy = LedgerStory(ledger, incident_id=story.incident_id, version=story.version, now=story.now)
    return copy


@pytest.mark.store
def test_the_same_bytes_on_two_incidents_are_stored_once(ledger: Ledger) -> None:
    first, second = investigation(ledger), investigation(ledger)

    a = add(ledger, first, PDF).event
    b = add(ledger, second, PDF).event

    assert isinstance(a, Incident.DocumentAdded) and isinstance(b, Incident.DocumentAdded)
    assert a.sha256 == b.sha256 and a.document_id != b.document_id
    assert ledger.recorder.document_hashes() == [a.sha256]  # type: ignore[attr-defined]


@pytest.mark.store
def test_the_step_a_document_supports_and_the_letter_served_are_on_record(ledger: Ledger) -> None:
    story = investigation(ledger)
    letter = add(ledger, story, PDF, supports_version=story.version).event
    assert isinstance(letter, Incident.DocumentAdded)

    story.do(
        "serve_allegations",
        subject_refs=["carer-1"],
        method="email",
        document_id=letter.document_id,
        actor=INVESTIGATOR,
    )

    served = ledger.incident_events(story.incident_id)[-1]
    assert isinstance(served, Incident.AllegationsServed)
    assert served.document_id == letter.document_id


def test_add_document_is_not_an_ordinary_command(ledger_sqlite: Ledger) -> None:
    from domain.errors import UnknownCommand

    story = investigation(ledger_sqlite)
    with pytest.raises(UnknownCommand):
        story.do(
            "add_document",
            document_id=UUID(int=1),
            kind=DocumentKind.EVIDENCE,
            file_name="x.pdf",
            media_type="application/pdf",
            size=3,
            sha256="a" * 64,
        )


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "spool"
    folder.mkdir()
    return folder


@pytest.fixture
def ledger_sqlite(tmp_path: Path):
    app = Ledger.from_url(f"sqlite:///{tmp_path / 'cims.db'}")
    yield app
    app.close()


@pytest.mark.parametrize(
    ("data", "name", "content_type", "rule_id"),
    [
        (b"", "empty.pdf", None, "document.empty"),
        (
            b"<!DOCTYPE html><html><script>alert(1)</script></html>",
            "report.pdf",
            None,
            "document.type-contradicted",
        ),
        (b"  <html><body>hi</body></html>", "report.pdf", None, "document.type-contradicted"),
        (b"<html><body>hi</body></html>", "report.txt", None, "document.type-contradicted"),
        (PDF, "report.pdf", "text/html", "document.type-contradicted"),
        (b"<html><body>hi</body></html>", "page.html", None, "document.type-not-allowed"),
        (b"\x7fELF\x02\x01\x01" + bytes(100), "tool", None, "document.type-not-allowed"),
        (PDF, "../../report.pdf", None, "document.file-name-unsafe"),
        (PDF, "report\r\n.pdf", None, "document.file-name-unsafe"),
        (PDF, "r" * 296 + ".pdf", None, "document.file-name-unsafe"),
    ],
)
def test_bad_uploads_are_refused_naming_the_rule_and_leave_no_spool(
    tmp_path: Path, data: bytes, name: str, content_type: str | None, rule_id: str
) -> None:
    with (
        pytest.raises(PolicyViolation) as refused,
        spool_bytes(data, name, LIMITS, directory=str(tmp_path)) as spool,
    ):
        spool.finish(name, content_type)

    assert refused.value.rule_id == rule_id
    assert list(tmp_path.iterdir()) == []


def test_an_upload_past_the_limit_is_refused_as_it_arrives(tmp_path: Path) -> None:
    spool = Spool(Limits(max_bytes=10, allowed_types=frozenset({"text/plain"})), str(tmp_path))
    with spool:
        spool.write(b"0123456789")
        with pytest.raises(PolicyViolation) as refused:
            spool.write(b"!")

    assert refused.value.rule_id == "document.too-large"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (PDF, "x.pdf", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n" + bytes(40), "x.png", "image/png"),
        (b"Statement of the carer.\nI was not there.\n", "x.txt", "text/plain"),
        ("Déclaration — ünïcode".encode(), "x.txt", "text/plain"),
        (b"\n\n<SCRIPT>alert(1)</SCRIPT>", "x.txt", "text/html"),
        (bytes(range(256)), "x.bin", "application/octet-stream"),
    ],
)
def test_the_media_type_is_sniffed_from_the_bytes(data: bytes, name: str, expected: str) -> None:
    assert sniff(data, name) == expected


def test_csv_named_as_such_is_text_and_agrees(tmp_path: Path) -> None:
    limits = Limits(max_bytes=100, allowed_types=frozenset({"text/plain"}))
    with spool_bytes(b"a,b\n1,2\n", "rows.csv", limits, directory=str(tmp_path)) as spool:
        assert spool.finish("rows.csv").media_type == "text/plain"
