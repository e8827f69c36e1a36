"""Documents on the record: each rule refuses what it names, and permits the rest."""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.errors import PolicyViolation
from domain.incident import Incident
from domain.rules import documents as rules
from domain.values import DocumentKind, DocumentOnRecord
from tests.factories import INVESTIGATOR, Story, under_investigation

K = DocumentKind


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def add(story: Story, kind: DocumentKind = K.ALLEGATIONS_LETTER, **over: Any) -> UUID:
    document_id = over.pop("document_id", uuid4())
    args: dict[str, Any] = {
        "document_id": document_id,
        "kind": kind,
        "file_name": "letter.pdf",
        "media_type": "application/pdf",
        "size": 1200,
        "sha256": sha(str(document_id).encode()),
    } | over
    story.do("add_document", actor=INVESTIGATOR, **args)
    return document_id


def refused(story: Story, command: str, **args: Any) -> str:
    before = len(story.events)
    with pytest.raises(PolicyViolation) as raised:
        story.do(command, actor=INVESTIGATOR, **args)
    assert len(story.events) == before
    assert not story.incident.collect_events()
    assert raised.value.message
    return raised.value.rule_id


def test_a_document_is_added_with_its_kind_name_type_size_and_hash() -> None:
    story = under_investigation()

    document_id = add(story, supports_version=2)

    event = story.events[-1]
    assert isinstance(event, Incident.DocumentAdded)
    assert (event.kind, event.file_name, event.size) == (K.ALLEGATIONS_LETTER, "letter.pdf", 1200)
    assert event.supports_version == 2
    assert story.incident.documents[document_id].sha256 == event.sha256


@pytest.mark.parametrize(
    ("over", "rule_id"),
    [
        ({"size": 0}, "document.empty"),
        ({"file_name": "../etc/passwd"}, "document.file-name-unsafe"),
        ({"file_name": "a\\b.pdf"}, "document.file-name-unsafe"),
        ({"file_name": "letter\x00.pdf"}, "document.file-name-unsafe"),
        ({"file_name": "letter\u202e.pdf"}, "document.file-name-unsafe"),
        ({"file_name": "x" * 300}, "document.file-name-unsafe"),
        ({"file_name": ".."}, "document.file-name-unsafe"),
        ({"file_name": "  "}, "document.file-name-unsafe"),
        ({"supports_version": 99}, "document.unknown-step"),
        ({"supports_version": 0}, "document.unknown-step"),
    ],
)
def test_a_document_is_refused_naming_the_rule_and_records_nothing(
    over: dict[str, Any], rule_id: str
) -> None:
    story = under_investigation()
    args = {
        "document_id": uuid4(),
        "kind": K.EVIDENCE,
        "file_name": "cctv.mp4",
        "media_type": "video/mp4",
        "size": 10,
        "sha256": "a" * 64,
    } | over

    assert refused(story, "add_document", **args) == rule_id


def test_the_same_bytes_are_added_once_but_again_after_they_were_superseded() -> None:
    story = under_investigation()
    first = add(story, sha256="b" * 64)

    assert (
        refused(
            story,
            "add_document",
            document_id=uuid4(),
            kind=K.EVIDENCE,
            file_name="again.pdf",
            media_type="application/pdf",
            size=5,
            sha256="b" * 64,
        )
        == "document.already-on-record"
    )
    story.do("supersede_document", document_id=first, reason="added to the wrong incident")
    add(story, sha256="b" * 64)


def test_a_corrected_copy_supersedes_the_original_which_stays_on_record() -> None:
    story = under_investigation()
    original = add(story)

    corrected = add(story, supersedes=original, reason="the first copy had a page missing")

    superseded = story.events[-1]
    assert isinstance(superseded, Incident.DocumentSuperseded)
    assert (superseded.document_id, superseded.superseded_by) == (original, corrected)
    assert superseded.reason == "the first copy had a page missing"
    assert story.incident.documents[original].superseded
    assert not story.incident.documents[corrected].superseded


def test_superseding_needs_a_reason_and_a_current_document_on_this_incident() -> None:
    story = under_investigation()
    original = add(story)

    no_reason = dict(
        document_id=uuid4(),
        kind=K.ALLEGATIONS_LETTER,
        file_name="l2.pdf",
        media_type="application/pdf",
        size=3,
        sha256="c" * 64,
        supersedes=original,
    )
    assert refused(story, "add_document", **no_reason) == "record.reason-required"
    unknown = uuid4()
    assert (
        refused(story, "supersede_document", document_id=unknown, reason="x")
        == "document.not-on-record"
    )
    story.do("supersede_document", document_id=original, reason="wrong file")
    assert (
        refused(story, "supersede_document", document_id=original, reason="again")
        == "document.not-on-record"  # nothing current is left to supersede
    )
    add(story, K.EVIDENCE)
    assert (
        refused(story, "supersede_document", document_id=original, reason="again")
        == "document.superseded"
    )


def test_allegations_are_served_with_their_letter_and_not_with_another_kind() -> None:
    story = under_investigation()
    letter = add(story, K.ALLEGATIONS_LETTER)
    evidence = add(story, K.EVIDENCE)
    refs = [s.ref for s in story.incident.subjects]

    assert (
        refused(story, "serve_allegations", subject_refs=refs, method="email", document_id=evidence)
        == "document.wrong-kind"
    )
    story.do(
        "serve_allegations",
        subject_refs=refs,
        method="email",
        document_id=letter,
        actor=INVESTIGATOR,
    )

    assert story.events[-1].document_id == letter


def test_a_step_without_a_document_is_recorded_as_before() -> None:
    story = under_investigation()
    refs = [s.ref for s in story.incident.subjects]

    story.do("serve_allegations", subject_refs=refs, method="email", actor=INVESTIGATOR)

    assert story.events[-1].document_id is None


def test_each_step_that_rests_on_a_document_names_the_kinds_it_rests_on() -> None:
    on_record = {}
    for kind in K:
        document_id = uuid4()
        on_record[document_id] = DocumentOnRecord(
            document_id=document_id, kind=kind, sha256="d" * 64
        )
    for step, kinds in rules.STEP_KINDS.items():
        for document_id, doc in on_record.items():
            if doc.kind in kinds:
                rules.require_document_for_step(step, document_id, on_record)
            else:
                with pytest.raises(PolicyViolation) as raised:
                    rules.require_document_for_step(step, document_id, on_record)
                assert raised.value.rule_id == "document.wrong-kind"


def test_a_step_naming_an_unknown_or_superseded_document_is_refused() -> None:
    story = under_investigation()
    refs = [s.ref for s in story.incident.subjects]
    letter = add(story)
    story.do("supersede_document", document_id=letter, reason="wrong letter")

    assert (
        refused(story, "serve_allegations", subject_refs=refs, method="email", document_id=letter)
        == "document.superseded"
    )
    assert (
        refused(story, "serve_allegations", subject_refs=refs, method="email", document_id=uuid4())
        == "document.not-on-record"
    )


def test_size_and_type_limits_refuse_and_permit() -> None:
    rules.require_within_size(10, 10)
    with pytest.raises(PolicyViolation) as raised:
        rules.require_within_size(11, 10)
    assert raised.value.rule_id == "document.too-large"

    rules.require_allowed_type("application/pdf", {"application/pdf"})
    with pytest.raises(PolicyViolation) as raised:
        rules.require_allowed_type("text/html", {"application/pdf"})
    assert raised.value.rule_id == "document.type-not-allowed"

    rules.require_declared_type_agrees("application/pdf", "application/pdf")
    rules.require_declared_type_agrees(None, "text/html")
    with pytest.raises(PolicyViolation) as raised:
        rules.require_declared_type_agrees("application/pdf", "text/html")
    assert raised.value.rule_id == "document.type-contradicted"


def test_superseding_is_open_only_while_a_current_document_is_on_record() -> None:
    from domain.next_steps import why_not

    story = under_investigation()
    closed_to = why_not(story.incident, "supersede_document", actor_id="x", obligations=())
    assert closed_to is not None and closed_to.rule_id == "document.not-on-record"

    letter = add(story)
    assert why_not(story.incident, "supersede_document", actor_id="x", obligations=()) is None

    story.do("supersede_document", document_id=letter, reason="wrong file")
    assert why_not(story.incident, "supersede_document", actor_id="x", obligations=()) is not None
