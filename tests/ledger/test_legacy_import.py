"""Importing the 2018 system's records: rows, refusals, re-runs, split and removed types."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain.errors import PolicyViolation
from domain.incident import Incident, Stage
from domain.legacy_records import row_digest
from domain.obligations import Status
from domain.values import IncidentType, Stamp
from ledger.application import Ledger
from ledger.legacy_import import Outcome, RowResult, Summary, import_rows, legacy_incident_id
from projections.db import Db
from replay.auditor import Auditor
from tests.factories import MANAGER, OFFICER, START, report_fields

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "legacy_export.csv"
T = IncidentType


def rows_of(path: Path = EXAMPLE) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(newline="") as f:
        yield from enumerate(csv.DictReader(f), start=2)


def run(ledger: Ledger, rows: Any = None, **kw: Any) -> list[RowResult]:
    return list(import_rows(ledger, rows or rows_of(), actor=OFFICER, now=START, **kw))


def summary_of(results: list[RowResult]) -> dict[str, int]:
    s = Summary()
    for r in results:
        s.count(r)
    return s.as_dict()


def row(**overrides: str) -> dict[str, str]:
    base = dict(next(rows_of())[1])
    base.update(overrides)
    return base


def test_example_file_imports_with_split_types_unresolved_and_bad_rows_refused_by_line(
    ledger: Ledger,
) -> None:
    results = run(ledger)

    assert summary_of(results) == {
        "imported": 7,
        "unchanged": 0,
        "changed": 0,
        "unresolved": 3,
        "refused": 3,
    }
    refused = {r.line: r for r in results if r.outcome == Outcome.REFUSED}
    assert set(refused) == {9, 10, 11}
    assert refused[9].reason is not None and "submitted_at" in refused[9].reason
    assert "offset" in refused[9].reason
    assert refused[10].reason is not None and refused[10].reason.startswith("care_context:")
    assert refused[11].rule == "classification.unknown-legacy-type"
    assert refused[11].reason is not None and refused[11].reason.startswith("incident_types:")
    assert len(list(ledger.incident_ids())) == 7


def test_imported_incident_first_event_says_so_and_keeps_its_submission_and_regime(
    ledger: Ledger,
) -> None:
    run(ledger)
    source = next(rows_of())[1]
    incident_id = legacy_incident_id("CIMS-2019-000101")

    first = ledger.incident_events(incident_id)[0]
    incident = ledger.incident(incident_id)

    assert isinstance(first, Incident.Reported)
    assert first.imported is not None
    assert first.imported.source_system == "CIMS-2018"
    assert first.imported.legacy_id == "CIMS-2019-000101"
    assert first.imported.row_sha256 == row_digest(source)
    assert first.actor == OFFICER and first.timestamp == START  # who ran it, and when
    assert first.submitted_at == datetime(2019, 5, 2, 0, 0, tzinfo=UTC)
    assert incident.submitted_at == first.submitted_at
    assert incident.policy_version == "CIMS-2018"
    assert incident.reporting_organisation == "Northside CSO"
    # A rename maps one to one.
    assert incident.types == (T.SEXUAL_EXPLOITATION_GROOMING,)
    assert incident.clients[0].department_client_id == "1234567"


def test_closed_legacy_records_owe_nothing_and_open_ones_owe_by_their_regime(
    ledger: Ledger,
) -> None:
    run(ledger)
    closed = legacy_incident_id("CIMS-2019-000101")
    open_major = legacy_incident_id("CIMS-2023-000520")

    assert ledger.incident(closed).stage == Stage.CLOSED
    closed_owes = ledger.obligations(closed, now=START)
    assert all(o.settled for o in closed_owes), closed_owes

    owes = {o.kind: o for o in ledger.obligations(open_major, now=START)}
    review = owes["investigation_or_review"]
    # 28 days from the original submission (2023-09-01 08:30 +10:00), not from the import.
    assert review.due == datetime(2023, 9, 28, 22, 30, tzinfo=UTC)
    assert review.status == Status.OVERDUE


def test_rerunning_the_same_file_changes_nothing(ledger: Ledger) -> None:
    run(ledger)
    head = ledger.recorder.max_notification_id()

    again = run(ledger)

    assert summary_of(again) == {
        "imported": 0,
        "unchanged": 7,
        "changed": 0,
        "unresolved": 0,
        "refused": 3,
    }
    assert ledger.recorder.max_notification_id() == head


def test_a_row_changed_since_import_is_reported_not_overwritten(ledger: Ledger) -> None:
    run(ledger)
    changed = row(description="Edited in the old system after the first export.")

    [result] = run(ledger, [(2, changed)])

    assert result.outcome == Outcome.CHANGED
    assert result.rule == "legacy.row-changed"
    incident = ledger.incident(legacy_incident_id("CIMS-2019-000101"))
    assert incident.details.description.startswith("Client disclosed online contact")
    assert incident.version == 2  # reported and closed, nothing after


def test_dry_run_decides_every_row_and_writes_nothing(ledger: Ledger) -> None:
    results = run(ledger, dry_run=True)

    assert summary_of(results)["imported"] == 7
    assert list(ledger.incident_ids()) == []


def test_the_same_legacy_id_twice_in_one_file_refuses_the_second(ledger: Ledger) -> None:
    results = run(ledger, [(2, row()), (3, row())])

    assert [r.outcome for r in results] == [Outcome.IMPORTED, Outcome.REFUSED]
    assert results[1].rule == "legacy.duplicate-id"


@pytest.mark.parametrize(
    ("overrides", "column"),
    [
        ({"occurred_at": "2019-04-30T21:00:00"}, "occurred_at"),
        ({"became_aware_at": "yesterday"}, "became_aware_at"),
        ({"impact": "Major"}, "impact"),
        ({"program": "CSO"}, "program"),
        ({"regulator_category": "reportable"}, "regulator_category"),
        ({"subject_roles": "staff;janitor"}, "subject_roles"),
        ({"client_aboriginal": "Y"}, "client_aboriginal"),
        ({"status": "archived"}, "status"),
        ({"outcome": "proven"}, "outcome"),
        ({"legacy_id": ""}, "legacy_id"),
        ({"description": ""}, "description"),
        ({"department_client_id": "AB-12"}, "department_client_id"),
        ({"incident_types": ""}, "incident_types"),
        ({"incident_types": "Neglect;Neglect"}, "incident_types"),
        ({"submitted_at": "2019-04-01T10:00:00+10:00"}, "submitted_at"),
        ({"submitted_at": "2026-01-01T10:00:00+11:00"}, "submitted_at"),
        ({"care_context": "parent"}, "care_context"),
        ({"occurred_at": "1850-01-01T09:00:00+10:00"}, "occurred_at"),
        ({"impact": "non_major", "incident_types": "Neglect", "subject_roles": "staff"}, "impact"),
    ],
)
def test_a_bad_row_is_refused_naming_its_column_and_the_rest_imports(
    ledger: Ledger, overrides: dict[str, str], column: str
) -> None:
    good = row(legacy_id="GOOD-1")
    bad = row(**{"legacy_id": "BAD-1", **overrides})

    results = run(ledger, [(2, bad), (3, good)])

    assert results[0].outcome == Outcome.REFUSED
    assert results[0].line == 2
    assert results[0].reason is not None and results[0].reason.startswith(f"{column}:")
    assert results[1].outcome == Outcome.IMPORTED
    assert list(ledger.incident_ids()) == [legacy_incident_id("GOOD-1")]


def test_only_a_department_officer_imports() -> None:
    with pytest.raises(PolicyViolation) as refused:
        list(import_rows(None, [], actor=MANAGER, now=START))  # type: ignore[arg-type]
    assert refused.value.rule_id == "legacy.department-only"


def test_split_type_is_resolved_by_a_person_recording_the_choice(ledger: Ledger) -> None:
    run(ledger)
    incident_id = legacy_incident_id("CIMS-2024-000610")
    incident = ledger.incident(incident_id)
    assert incident.unresolved_legacy_types == ["Injury"]
    assert incident.types == (T.ABSENT_CLIENT,)

    ledger.execute(
        incident_id,
        "resolve_legacy_type",
        expected_version=incident.version,
        stamp=Stamp(actor=MANAGER, now=START),
        legacy_label="Injury",
        incident_type=T.INJURY_EXPLAINED,
        reason="The client said they fell on the way home; the carer saw the fall.",
    )

    resolved = ledger.incident(incident_id)
    assert resolved.unresolved_legacy_types == []
    assert resolved.types == (T.ABSENT_CLIENT, T.INJURY_EXPLAINED)
    last = ledger.incident_events(incident_id)[-1]
    assert isinstance(last, Incident.LegacyTypeResolved)
    assert last.reason and last.actor == MANAGER


@pytest.mark.parametrize(
    ("label", "chosen", "rule"),
    [
        ("Injury", T.SELF_HARM, "legacy.not-a-candidate"),
        ("Sexual exploitation", T.SEXUAL_EXPLOITATION_GROOMING, "legacy.not-unresolved"),
        ("Dangerous actions", T.SERIOUS_RISK, "legacy.not-unresolved"),
    ],
)
def test_resolving_is_refused_for_a_wrong_choice_or_a_type_that_is_not_split(
    ledger: Ledger, label: str, chosen: IncidentType, rule: str
) -> None:
    run(ledger)
    incident_id = legacy_incident_id(
        "CIMS-2019-000102" if label == "Injury" else "CIMS-2019-000101"
    )
    if label == "Dangerous actions":
        incident_id = legacy_incident_id("CIMS-2021-000311")
    version = ledger.incident(incident_id).version

    with pytest.raises(PolicyViolation) as refused:
        ledger.execute(
            incident_id,
            "resolve_legacy_type",
            expected_version=version,
            stamp=Stamp(actor=MANAGER, now=START),
            legacy_label=label,
            incident_type=chosen,
            reason="r",
        )
    assert refused.value.rule_id == rule
    assert ledger.incident(incident_id).version == version


def test_removed_types_are_kept_as_legacy_labels_flagged_never_mapped(ledger: Ledger) -> None:
    run(ledger)
    dangerous = ledger.incident(legacy_incident_id("CIMS-2021-000311"))
    trauma = ledger.incident(legacy_incident_id("CIMS-2022-000412"))

    assert dangerous.types == ()
    assert dangerous.legacy_types == ("Dangerous actions",)
    assert dangerous.removed_legacy_types == ["Dangerous actions"]
    assert trauma.types == (T.EMOTIONAL_PSYCHOLOGICAL_HARM,)
    assert trauma.removed_legacy_types == ["Poor quality of care"]


def test_imported_incidents_replay_and_verify_like_any_other(
    ledger: Ledger, database_url: str
) -> None:
    run(ledger)
    auditor = Auditor(ledger, Db(database_url))
    incident_id = legacy_incident_id("CIMS-2019-000101")

    report = auditor.verify_all()
    history = auditor.history(incident_id)

    assert report.ok and report.incidents_checked == 7, report
    assert "Imported from CIMS-2018 (legacy id CIMS-2019-000101" in history.events[0].summary
    assert history.events[1].type == "Closed"


def test_legacy_rules_refuse_naming_the_rule() -> None:
    from domain.rules import legacy

    with pytest.raises(PolicyViolation) as refused:
        legacy.require_labels([])
    assert refused.value.rule_id == "legacy.type-required"
    with pytest.raises(PolicyViolation) as refused:
        legacy.require_labels(["Neglect", "Neglect"])
    assert refused.value.rule_id == "legacy.type-repeated"
    aware = datetime(2020, 1, 2, tzinfo=UTC)
    with pytest.raises(PolicyViolation) as refused:
        legacy.require_submitted_in_order(datetime(2020, 1, 1, tzinfo=UTC), aware)
    assert refused.value.rule_id == "legacy.submitted-before-aware"
    legacy.require_submitted_in_order(aware, aware)


def test_two_imports_racing_on_the_same_rows_record_each_record_once(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ledger.legacy_import as module

    run(ledger)
    head = ledger.recorder.max_notification_id()
    # The second import reads before the first one's rows are committed: it sees none of them,
    # and its write hits the store's key.
    real, asked = module._existing, set()

    def not_yet_committed(ledger: Ledger, incident_id: UUID) -> Incident | None:
        if incident_id in asked:
            return real(ledger, incident_id)
        asked.add(incident_id)
        return None

    monkeypatch.setattr(module, "_existing", not_yet_committed)
    blind = list(import_rows(ledger, rows_of(), actor=OFFICER, now=START))

    assert summary_of(blind)["unchanged"] == 7 and summary_of(blind)["imported"] == 0
    assert ledger.recorder.max_notification_id() == head


def test_a_legacy_id_whose_incident_was_not_imported_is_refused(ledger: Ledger) -> None:
    incident_id = legacy_incident_id("TAKEN-1")
    taken = Incident.report(
        stamp=Stamp(actor=MANAGER, now=START), incident_id=incident_id, **report_fields()
    )
    ledger.save(taken)

    [result] = run(ledger, [(2, row(legacy_id="TAKEN-1"))])

    assert result.outcome == Outcome.REFUSED and result.rule == "legacy.id-taken"
