"""Bringing the 2018 system's records into the ledger, row by row, idempotently.

Each row becomes one incident whose id is derived from the source system and the legacy id, so
the same file imported twice changes nothing; a row that changed since it was imported is
reported, never written over; a bad row is refused with its reason and the rest carry on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.persistence import IntegrityError

from domain.errors import PolicyViolation
from domain.incident import Incident
from domain.legacy_records import SOURCE_SYSTEM, LegacyRecord, RowRefused, read_row
from domain.obligations import RULES
from domain.rules import legacy
from domain.values import Actor, Stamp
from ledger.application import Ledger, check_text, check_times

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:cims-ledger:legacy-import")
# How many rows share one transaction: fewer commits, and a failed batch is retried row by row.
BATCH = 200


class Outcome(StrEnum):
    IMPORTED = "imported"
    UNCHANGED = "unchanged"
    CHANGED = "changed"
    REFUSED = "refused"


@dataclass(frozen=True)
class RowResult:
    """What became of one row: its line in the file (the header is line 1)."""

    line: int
    legacy_id: str
    outcome: Outcome
    incident_id: UUID | None = None
    reason: str | None = None
    rule: str | None = None
    unresolved: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    row: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Summary:
    imported: int = 0
    unchanged: int = 0
    changed: int = 0
    unresolved: int = 0
    refused: int = 0

    def count(self, result: RowResult) -> None:
        setattr(self, result.outcome.value, getattr(self, result.outcome.value) + 1)
        if result.outcome == Outcome.IMPORTED and result.unresolved:
            self.unresolved += 1

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


def legacy_incident_id(legacy_id: str, source_system: str = SOURCE_SYSTEM) -> UUID:
    """The ledger's id for a legacy record: the same record always gets the same id."""
    return uuid5(_NAMESPACE, f"{source_system}:{legacy_id}")


# A rule names the ledger's field; a refused row names the file's column.
_COLUMN_OF = {
    "types": "incident_types",
    "subjects_of_allegation": "subject_roles",
    "impact": "impact",
    "clients": "client_ref",
}
# Everything a closed legacy record might owe, recorded as not required, with why.
CLOSED_NOT_REQUIRED = {kind: "closed in the legacy system before import" for kind in RULES}


def import_rows(
    ledger: Ledger,
    rows: Iterable[tuple[int, Mapping[str, Any] | RowRefused]],
    *,
    actor: Actor,
    now: datetime,
    dry_run: bool = False,
    source_system: str = SOURCE_SYSTEM,
) -> Iterator[RowResult]:
    """Import `(line, row)` pairs, yielding each row's result in order (a `RowRefused` in
    place of a row, one that could not be read, is refused with its reason). Rows are read lazily
    and written in batches, so memory stays flat however long the file is. A dry run decides
    every row exactly as a real run would, and writes nothing."""
    legacy.require_department_officer(actor.role)
    stamp = Stamp(actor=actor, now=now)
    check_text(stamp, {})  # who runs it is text every imported event keeps
    # Results wait with their batch, so they come out in the order of the file.
    pending: list[tuple[RowResult, Incident | None]] = []
    seen: set[UUID] = set()
    for line, row in rows:
        pending.append(_decide(ledger, line, row, stamp, source_system, seen))
        if len(pending) >= BATCH:
            yield from _write(ledger, pending, dry_run)
            pending = []
    yield from _write(ledger, pending, dry_run)


def _decide(
    ledger: Ledger,
    line: int,
    row: Mapping[str, Any] | RowRefused,
    stamp: Stamp,
    source_system: str,
    seen: set[UUID],
) -> tuple[RowResult, Incident | None]:
    if isinstance(row, RowRefused):
        return _refused(line, "", {}, row.column, row.reason, row.rule), None
    legacy_id = str(row.get("legacy_id") or "").strip()
    try:
        record = read_row(row, source_system=source_system)
    except RowRefused as refused:
        return _refused(line, legacy_id, row, refused.column, refused.reason, refused.rule), None
    incident_id = legacy_incident_id(record.provenance.legacy_id, source_system)
    if incident_id in seen:
        reason = "the same legacy_id appears earlier in this file"
        return _refused(line, legacy_id, row, "legacy_id", reason, "legacy.duplicate-id"), None
    seen.add(incident_id)
    existing = _existing(ledger, incident_id)
    if existing is not None:
        return _compared(line, record, existing, row), None
    try:
        # The one time rule every command passes: displayable, and nothing in the future.
        check_times(
            stamp,
            {"details": record.details, "submitted_at": record.submitted_at},
            became_aware_at=None,
        )
        incident = Incident.import_legacy(
            record,
            stamp=stamp,
            incident_id=incident_id,
            closed_not_required=CLOSED_NOT_REQUIRED,
        )
    except PolicyViolation as refused:
        field = (refused.field or "row").rsplit(".", 1)[-1]
        column = _COLUMN_OF.get(field, field)
        return _refused(line, legacy_id, row, column, refused.message, refused.rule_id), None
    result = RowResult(
        line,
        legacy_id,
        Outcome.IMPORTED,
        incident_id,
        unresolved=tuple(incident.unresolved_legacy_types),
        removed=tuple(incident.removed_legacy_types),
        row=row,
    )
    return result, incident


def _write(
    ledger: Ledger, pending: list[tuple[RowResult, Incident | None]], dry_run: bool
) -> Iterator[RowResult]:
    if dry_run:
        yield from (result for result, _ in pending)
        return
    # Taken out of the aggregates once: a failed save has consumed none of these lists, so a
    # batch that fails is written again row by row from them.
    events = [
        (result, tuple(incident.collect_events()) if incident is not None else ())
        for result, incident in pending
    ]
    try:
        ledger.save(*(e for _, row_events in events for e in row_events))
    except IntegrityError:
        # Another import of the same records got in first: row by row, each decided again.
        for result, row_events in events:
            yield _write_one(ledger, result, row_events) if row_events else result
        return
    yield from (result for result, _ in pending)


def _write_one(ledger: Ledger, result: RowResult, events: tuple[Any, ...]) -> RowResult:
    try:
        ledger.save(*events)
    except IntegrityError:
        existing = _existing(ledger, events[0].originator_id)
        first: Incident.Reported = events[0]
        if existing is None or existing.imported is None or first.imported is None:
            reason = "an incident with this id exists and was not imported"
            return _refused(
                result.line, result.legacy_id, result.row, "legacy_id", reason, "legacy.id-taken"
            )
        same = existing.imported.row_sha256 == first.imported.row_sha256
        outcome = Outcome.UNCHANGED if same else Outcome.CHANGED
        return RowResult(result.line, result.legacy_id, outcome, existing.id, row=result.row)
    return result


def _existing(ledger: Ledger, incident_id: UUID) -> Incident | None:
    events = list(ledger.events.get(incident_id, lte=1))
    if not events:
        return None
    first: Incident.Reported = events[0]  # type: ignore[assignment]
    return first.mutate(None)  # type: ignore[return-value]


def _compared(
    line: int, record: LegacyRecord, existing: Incident, row: Mapping[str, Any]
) -> RowResult:
    legacy_id = record.provenance.legacy_id
    if existing.imported is None:
        reason = "an incident with this id exists and was not imported"
        return _refused(line, legacy_id, row, "legacy_id", reason, "legacy.id-taken")
    if existing.imported.row_sha256 == record.provenance.row_sha256:
        return RowResult(line, legacy_id, Outcome.UNCHANGED, existing.id, row=row)
    return RowResult(
        line,
        legacy_id,
        Outcome.CHANGED,
        existing.id,
        reason="the row differs from the one imported before; the ledger keeps what it has",
        rule="legacy.row-changed",
        row=row,
    )


def _refused(
    line: int, legacy_id: str, row: Mapping[str, Any], column: str, reason: str, rule: str
) -> RowResult:
    return RowResult(
        line,
        legacy_id,
        Outcome.REFUSED,
        reason=f"{column}: {reason}",
        rule=rule,
        row=row,
    )
