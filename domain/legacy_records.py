"""A row of the 2018 system's CSV export, read into a legacy record or refused with the reason.

Columns (README "Importing the old system's records"): legacy_id, submitted_at, organisation,
program, care_context, client_ref, client_aboriginal, incident_types (labels separated by `;`),
impact, occurred_at, became_aware_at, description, subject_roles (separated by `;`),
regulator_category, status (open | closed), outcome (blank | substantiated | not substantiated |
unable to be determined); optionally department_client_id and location. Coded values are spelled
as the API spells them; instants carry an offset (a value without one is refused, not guessed).
The file is UTF-8, with or without a byte order mark. Every column is held to a length and to the
text rule every command passes (domain/rules/text.py): a row that breaks either is refused with
its line, its column and the reason, and the other rows import.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import ValidationError

from domain.rules.text import control_character
from domain.values import (
    NARRATIVE_MAX,
    REF_MAX,
    SHORT_TEXT_MAX,
    CareContext,
    Client,
    Details,
    Finding,
    Impact,
    Program,
    RegulatorCategory,
    SubjectOfAllegation,
    SubjectRole,
    UtcDatetime,
    Value,
)

SOURCE_SYSTEM = "CIMS-2018"
REQUIRED_COLUMNS = (
    "legacy_id",
    "submitted_at",
    "organisation",
    "program",
    "care_context",
    "client_ref",
    "client_aboriginal",
    "incident_types",
    "impact",
    "occurred_at",
    "became_aware_at",
    "description",
    "subject_roles",
    "regulator_category",
    "status",
    "outcome",
)
OPTIONAL_COLUMNS = ("department_client_id", "location")
# The longest each column may be, in characters: the bound of the field it becomes, or of a
# reference for coded values and instants.
COLUMN_MAX = dict.fromkeys(REQUIRED_COLUMNS + OPTIONAL_COLUMNS, REF_MAX) | {
    "incident_types": SHORT_TEXT_MAX,
    "subject_roles": SHORT_TEXT_MAX,
    "location": SHORT_TEXT_MAX,
    "description": NARRATIVE_MAX,
}
NO_LOCATION = "not recorded in the legacy system"
_OUTCOMES = {
    "": None,
    "substantiated": Finding.SUBSTANTIATED,
    "not substantiated": Finding.NOT_SUBSTANTIATED,
    "unable to be determined": Finding.UNABLE_TO_BE_DETERMINED,
}
E = TypeVar("E", bound=StrEnum)


class LegacyStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class LegacyProvenance(Value):
    """Where an imported record came from: the system, its id there, and a digest of its row.

    Who ran the import and when are the importing event's own actor and timestamp."""

    source_system: str
    legacy_id: str
    row_sha256: str
    status: LegacyStatus
    outcome: Finding | None = None


class LegacyRecord(Value):
    """One legacy record, its values checked for shape (the policy's rules run on import)."""

    organisation: str
    program: Program
    care_context: CareContext
    clients: tuple[Client, ...]
    legacy_labels: tuple[str, ...]
    impact: Impact
    regulator_category: RegulatorCategory
    subjects_of_allegation: tuple[SubjectOfAllegation, ...]
    details: Details
    submitted_at: UtcDatetime
    provenance: LegacyProvenance


class RowRefused(Exception):
    """A row that cannot become a record: its column and the reason."""

    def __init__(self, column: str, reason: str, rule: str = "legacy.row-invalid") -> None:
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.reason = reason
        self.rule = rule


class HeaderRefused(Exception):
    """A file whose header cannot be read or lacks a required column: nothing is imported."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def legacy_csv(
    lines: Iterable[str],
) -> tuple[list[str], Iterator[tuple[int, Mapping[str, str] | RowRefused]]]:
    """The header of a legacy CSV (text lines, a byte order mark first or not) and its rows,
    each `(line, row)`, or `(line, RowRefused)` for a row that cannot be read as CSV (a cell
    longer than any column allows): the rows after it are read all the same. `HeaderRefused` for a
    header that cannot be read or lacks a required column: the whole file is refused."""
    reader = csv.DictReader(_without_bom(lines))
    try:
        header = list(reader.fieldnames or [])
    except csv.Error as exc:
        raise HeaderRefused(f"the header {_unreadable(exc)}") from None
    missing = missing_columns(header)
    if missing:
        raise HeaderRefused(
            f"the header lacks {', '.join(missing)} (required columns:"
            f" {', '.join(REQUIRED_COLUMNS)})"
        )

    def rows() -> Iterator[tuple[int, Mapping[str, str] | RowRefused]]:
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # The inner reader's count: the DictReader's own is set by rows read whole.
                yield reader.reader.line_num, RowRefused("row", _unreadable(exc))
                continue
            yield reader.line_num, row

    return header, rows()


def _without_bom(lines: Iterable[str]) -> Iterator[str]:
    first = True
    for line in lines:
        yield line.removeprefix("\ufeff") if first else line
        first = False


def _unreadable(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return (
            f"has a cell longer than {csv.field_size_limit():,} characters"
            f" (a column holds at most {NARRATIVE_MAX:,})"
        )
    return f"cannot be read as CSV ({exc})"


def row_digest(row: Mapping[str, str]) -> str:
    """SHA-256 of the row as read: its columns and values as canonical JSON (sorted keys), so
    the same record in a re-export with its columns in another order digests the same."""
    text = json.dumps(dict(row), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def missing_columns(header: list[str] | None) -> list[str]:
    present = set(header or ())
    return [c for c in REQUIRED_COLUMNS if c not in present]


def read_row(row: Mapping[str, Any], *, source_system: str = SOURCE_SYSTEM) -> LegacyRecord:
    """The legacy record a row describes; `RowRefused` names the first column that is wrong."""
    if None in row or any(v is None for v in row.values()):
        raise RowRefused("row", "the row has a different number of fields from the header")
    text = {column: "" for column in REQUIRED_COLUMNS} | {k: str(v).strip() for k, v in row.items()}
    for column, most in COLUMN_MAX.items():
        value = text.get(column, "")
        found = control_character(value)
        if found is not None:
            raise RowRefused(
                column,
                f"holds a control character ({found}); text may hold tab and line breaks but"
                " no other control character",
                "text.control-character",
            )
        if len(value) > most:
            raise RowRefused(column, f"is {len(value):,} characters long; at most {most:,}")
    legacy_id = _required(text, "legacy_id")
    submitted_at = _instant(text, "submitted_at")
    organisation = _required(text, "organisation")
    program = _coded(text, "program", Program)
    care_context = _coded(text, "care_context", CareContext)
    aboriginal = _yes_no(text, "client_aboriginal")
    labels = tuple(label.strip() for label in text["incident_types"].split(";") if label.strip())
    impact = _coded(text, "impact", Impact)
    occurred_at = _instant(text, "occurred_at")
    became_aware_at = _instant(text, "became_aware_at")
    description = _required(text, "description")
    roles = [r.strip() for r in text["subject_roles"].split(";") if r.strip()]
    subjects = tuple(
        SubjectOfAllegation(ref=f"subject-{n}", role=_code("subject_roles", role, SubjectRole))
        for n, role in enumerate(roles, start=1)
    )
    category = _coded(text, "regulator_category", RegulatorCategory)
    status = _coded(text, "status", LegacyStatus)
    outcome_text = text["outcome"].lower()
    if outcome_text not in _OUTCOMES:
        raise RowRefused(
            "outcome", "must be blank, substantiated, not substantiated or unable to be determined"
        )
    try:
        client = Client(
            ref=_required(text, "client_ref"),
            aboriginal=aboriginal,
            department_client_id=text.get("department_client_id") or None,
        )
    except ValidationError as exc:
        raise RowRefused(_field(exc, "client_ref"), _message(exc)) from None
    try:
        details = Details(
            occurred_at=occurred_at,
            became_aware_at=became_aware_at,
            location=text.get("location") or NO_LOCATION,
            description=description,
        )
        return LegacyRecord(
            organisation=organisation,
            program=program,
            care_context=care_context,
            clients=(client,),
            legacy_labels=labels,
            impact=impact,
            regulator_category=category,
            subjects_of_allegation=subjects,
            details=details,
            submitted_at=submitted_at,
            provenance=LegacyProvenance(
                source_system=source_system,
                legacy_id=legacy_id,
                row_sha256=row_digest(row),
                status=status,
                outcome=_OUTCOMES[outcome_text],
            ),
        )
    except ValidationError as exc:
        raise RowRefused(_field(exc, "row"), _message(exc)) from None


def _required(text: Mapping[str, str], column: str) -> str:
    value = text.get(column, "")
    if not value:
        raise RowRefused(column, "is required")
    return value


def _instant(text: Mapping[str, str], column: str) -> datetime:
    value = _required(text, column)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise RowRefused(column, f"{value!r} is not an ISO 8601 instant") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise RowRefused(
            column, f"{value!r} has no UTC offset; give one (e.g. +11:00), it is not guessed"
        )
    return moment


def _coded(text: Mapping[str, str], column: str, kind: type[E]) -> E:
    return _code(column, _required(text, column), kind)


def _code(column: str, value: str, kind: type[E]) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(k.value for k in kind)
        raise RowRefused(column, f"{value!r} is not one of {allowed}") from None


def _yes_no(text: Mapping[str, str], column: str) -> bool:
    value = _required(text, column).lower()
    if value not in ("yes", "no"):
        raise RowRefused(column, "must be yes or no")
    return value == "yes"


def _field(exc: ValidationError, default: str) -> str:
    loc = exc.errors()[0].get("loc", ())
    return str(loc[-1]) if loc else default


def _message(exc: ValidationError) -> str:
    return str(exc.errors()[0].get("msg", "is not valid"))
