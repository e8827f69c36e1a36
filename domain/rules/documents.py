"""Documents on the record (policy §7 RCS reports "submitted into the CIMS system", §8
allegations in writing, evidence and the investigation report, §9 the review report, §10 the
outcome review's decision): what a document added to an incident must be, and which document a
step that rests on one may name."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from uuid import UUID

from domain.errors import PolicyViolation
from domain.values import FILE_NAME_MAX, DocumentKind, DocumentOnRecord

K = DocumentKind
# The kinds of document each step that rests on one may name.
STEP_KINDS: dict[str, frozenset[DocumentKind]] = {
    "serve_allegations": frozenset({K.ALLEGATIONS_LETTER}),
    "record_subject_response": frozenset({K.SUBJECT_RESPONSE}),
    "record_evidence": frozenset({K.EVIDENCE}),
    "submit_investigation_report": frozenset({K.INVESTIGATION_REPORT, K.RCS_INVESTIGATION_REPORT}),
    "complete_incident_review": frozenset({K.INCIDENT_REVIEW_REPORT}),
    "endorse_rcs_investigation": frozenset({K.RCS_INVESTIGATION_REPORT}),
    "decide_outcome_review": frozenset({K.OUTCOME_REVIEW_DECISION}),
}
_SEPARATORS = re.compile(r"[/\\]")
KIND_WORDS = {
    K.INVESTIGATION_REPORT: "investigation report",
    K.RCS_INVESTIGATION_REPORT: "RCS investigation report",
    K.ALLEGATIONS_LETTER: "allegations letter",
    K.SUBJECT_RESPONSE: "subject's response",
    K.EVIDENCE: "evidence",
    K.INCIDENT_REVIEW_REPORT: "incident review report",
    K.OUTCOME_REVIEW_DECISION: "outcome review decision",
    K.OTHER: "other document",
}


def require_bytes(size: int) -> None:
    """A document holds something: an empty file is no report, letter or evidence."""
    if size <= 0:
        raise PolicyViolation("document.empty", "the file is empty", field="file")


def require_within_size(size: int, limit: int) -> None:
    """A document is no larger than the ledger is set to keep (`CIMS_DOCUMENT_MAX_BYTES`)."""
    if size > limit:
        raise PolicyViolation(
            "document.too-large",
            f"the file is over the limit of {limit:,} bytes",
            field="file",
        )


def require_safe_file_name(name: str) -> None:
    """A file name is a name, not a path: no folder separators, no control characters, not
    "." or "..", at most 255 characters."""
    problem = None
    if not name or not name.strip():
        problem = "the file needs a name"
    elif len(name) > FILE_NAME_MAX:
        problem = f"the file name is longer than {FILE_NAME_MAX} characters"
    elif _SEPARATORS.search(name):
        problem = "the file name may not contain / or \\"
    elif any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in name):
        problem = "the file name may not contain control characters"
    elif name.strip() in (".", ".."):
        problem = "the file name may not be . or .."
    if problem is not None:
        raise PolicyViolation("document.file-name-unsafe", problem, field="file_name")


def require_declared_type_agrees(declared: str | None, sniffed: str) -> None:
    """What the sender says a file is (its type, or its name's extension) agrees with what its
    bytes are: an HTML page named `.pdf` is refused, not stored as a report."""
    if declared is not None and declared != sniffed:
        raise PolicyViolation(
            "document.type-contradicted",
            f"the file is said to be {declared}, but its content is {sniffed}",
            field="file",
        )


def require_allowed_type(media_type: str, allowed: Collection[str]) -> None:
    """Only the kinds of file the ledger is set to keep (`CIMS_DOCUMENT_TYPES`)."""
    if media_type not in allowed:
        raise PolicyViolation(
            "document.type-not-allowed",
            f"files of type {media_type} are not kept; allowed: {', '.join(sorted(allowed))}",
            field="file",
        )


def require_known_step(supports_version: int | None, version: int) -> None:
    """A document supports a step already on the record (one of the incident's versions)."""
    if supports_version is not None and not 1 <= supports_version <= version:
        raise PolicyViolation(
            "document.unknown-step",
            f"the incident has no step at version {supports_version}",
            field="supports_version",
        )


def require_not_on_record(sha256: str, documents: Mapping[UUID, DocumentOnRecord]) -> None:
    """The same bytes are added once: a second copy of a document on the record is refused."""
    if any(d.sha256 == sha256 and not d.superseded for d in documents.values()):
        raise PolicyViolation(
            "document.already-on-record",
            "this very file is already on the incident's record",
            field="file",
        )


def require_current_document(
    document_id: UUID, documents: Mapping[UUID, DocumentOnRecord], field: str
) -> DocumentOnRecord:
    """A step names a document on this incident's record that no correction has superseded."""
    found = documents.get(document_id)
    if found is None:
        raise PolicyViolation(
            "document.not-on-record", f"no document {document_id} on this incident", field=field
        )
    if found.superseded:
        raise PolicyViolation(
            "document.superseded",
            "that document was superseded; name the document that replaced it",
            field=field,
        )
    return found


def require_a_current_document(documents: Mapping[UUID, DocumentOnRecord]) -> None:
    """Something to supersede: a document on the record that is still current."""
    if not any(not d.superseded for d in documents.values()):
        raise PolicyViolation(
            "document.not-on-record", "no current document is on this incident's record"
        )


def require_document_for_step(
    step: str, document_id: UUID | None, documents: Mapping[UUID, DocumentOnRecord]
) -> None:
    """A step that rests on a document names one of the kind it rests on (the served
    allegations their letter, a report its report)."""
    if document_id is None:
        return
    found = require_current_document(document_id, documents, "document_id")
    kinds = STEP_KINDS[step]
    if found.kind not in kinds:
        wanted = " or ".join(sorted(KIND_WORDS[k] for k in kinds))
        raise PolicyViolation(
            "document.wrong-kind",
            f"this step rests on the {wanted}, not the {KIND_WORDS[found.kind]}",
            field="document_id",
        )
