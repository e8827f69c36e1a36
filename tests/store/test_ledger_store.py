"""The ledger's store contract, run on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain.errors import IncidentNotFound, PolicyViolation, UnknownCommand, VersionConflict
from domain.values import Stamp
from ledger.application import Ledger
from tests.factories import CARER, MANAGER, REPORTER, START, report_fields

pytestmark = pytest.mark.store


def stamp(actor: Any = MANAGER, command_id: str | None = None, **delta: float) -> Stamp:
    return Stamp(actor=actor, now=START + timedelta(**delta), command_id=command_id)


def test_a_report_and_its_steps_are_stored_and_read_back_exactly(ledger: Ledger) -> None:
    accepted = ledger.report(stamp=stamp(REPORTER), **report_fields())
    ledger.execute(
        accepted.incident_id,
        "record_response_plan",
        expected_version=1,
        stamp=stamp(hours=1),
        plan="Supervision plan",
    )

    events = ledger.incident_events(accepted.incident_id)

    assert [type(e).__name__ for e in events] == ["Reported", "ResponsePlanRecorded"]
    assert events[0].actor == REPORTER and events[0].timestamp == START
    assert events[1].prev_hash == events[0].hash
    assert ledger.incident(accepted.incident_id).response_plan_recorded
    assert list(ledger.incident_ids()) == [accepted.incident_id]
    assert accepted.position is not None and accepted.position >= 1


def test_stored_topics_name_the_incident_module_and_event(ledger: Ledger) -> None:
    accepted = ledger.report(stamp=stamp(REPORTER), **report_fields())

    (notification,) = ledger.recorder.select_notifications(start=1, limit=10)

    assert notification.topic == "domain.incident:Incident.Reported"
    assert notification.originator_id == accepted.incident_id


def test_a_stale_expected_version_is_a_conflict_naming_the_current_version(ledger: Ledger) -> None:
    incident_id = ledger.report(stamp=stamp(REPORTER), **report_fields()).incident_id
    ledger.execute(incident_id, "record_response_plan", expected_version=1, stamp=stamp(), plan="p")

    with pytest.raises(VersionConflict) as conflict:
        ledger.execute(
            incident_id, "record_response_plan", expected_version=1, stamp=stamp(), plan="q"
        )

    assert conflict.value.current == 2
    assert len(ledger.incident_events(incident_id)) == 2


def test_a_retried_command_with_the_same_id_returns_the_first_result_not_a_conflict(
    ledger: Ledger,
) -> None:
    incident_id = ledger.report(stamp=stamp(REPORTER), **report_fields()).incident_id
    first = ledger.execute(
        incident_id,
        "record_response_plan",
        expected_version=1,
        stamp=stamp(command_id="cmd-1"),
        plan="p",
    )

    again = ledger.execute(
        incident_id,
        "record_response_plan",
        expected_version=1,
        stamp=stamp(command_id="cmd-1"),
        plan="p",
    )

    assert (again.version, again.event.hash) == (first.version, first.event.hash)
    assert len(ledger.incident_events(incident_id)) == 2


def test_a_lost_acknowledgement_on_report_does_not_make_a_second_incident(ledger: Ledger) -> None:
    first = ledger.report(stamp=stamp(REPORTER, command_id="key-1"), **report_fields())
    again = ledger.report(stamp=stamp(REPORTER, command_id="key-1"), **report_fields())

    assert again.incident_id == first.incident_id
    assert list(ledger.incident_ids()) == [first.incident_id]


def test_commit_then_retry_of_the_same_insert_is_answered_as_success(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The driver's retry after a lost connection re-inserts a row that had committed: the
    ledger must recognise its own command instead of answering a false 409."""
    incident_id = ledger.report(stamp=stamp(REPORTER), **report_fields()).incident_id
    real_insert = ledger.recorder.insert_events

    def commit_then_lose_the_connection(*args: Any, **kwargs: Any) -> Any:
        real_insert(*args, **kwargs)
        return real_insert(*args, **kwargs)  # the retry hits the (incident, version) key

    monkeypatch.setattr(ledger.recorder, "insert_events", commit_then_lose_the_connection)
    accepted = ledger.execute(
        incident_id,
        "record_response_plan",
        expected_version=1,
        stamp=stamp(command_id="cmd-9"),
        plan="p",
    )

    assert accepted.version == 2
    assert len(ledger.incident_events(incident_id)) == 2
    with pytest.raises(VersionConflict):
        ledger.execute(
            incident_id,
            "record_response_plan",
            expected_version=1,
            stamp=stamp(command_id="someone-else"),
            plan="p",
        )


def test_two_writers_on_one_version_one_wins_and_nothing_is_lost(ledger: Ledger) -> None:
    incident_id = ledger.report(stamp=stamp(REPORTER), **report_fields()).incident_id
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def write(n: int) -> None:
        barrier.wait()
        try:
            ledger.execute(
                incident_id,
                "record_client_voice",
                expected_version=1,
                stamp=stamp(command_id=f"w{n}"),
                client_ref="client-1",
                said=f"{n}",
            )
            outcomes.append("ok")
        except VersionConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "ok"]
    assert [e.originator_version for e in ledger.incident_events(incident_id)] == [1, 2]


def test_refusals_record_nothing(ledger: Ledger) -> None:
    incident_id = ledger.report(stamp=stamp(REPORTER), **report_fields()).incident_id

    with pytest.raises(PolicyViolation):
        ledger.execute(incident_id, "close", expected_version=1, stamp=stamp(), reason="done")
    with pytest.raises(UnknownCommand):
        ledger.execute(incident_id, "delete", expected_version=1, stamp=stamp())
    with pytest.raises(IncidentNotFound):
        ledger.execute(uuid4(), "reopen", expected_version=1, stamp=stamp(), reason="x")

    assert len(ledger.incident_events(incident_id)) == 1


def test_closing_reads_obligations_from_the_stored_events(ledger: Ledger) -> None:
    incident_id = ledger.report(
        stamp=stamp(REPORTER), **report_fields(subjects_of_allegation=[CARER])
    ).incident_id
    ledger.execute(incident_id, "record_response_plan", expected_version=1, stamp=stamp(), plan="p")

    with pytest.raises(PolicyViolation) as refused:
        ledger.execute(incident_id, "close", expected_version=2, stamp=stamp(), reason="done")
    assert "carer_support_plan" in refused.value.message

    ledger.execute(
        incident_id,
        "close",
        expected_version=2,
        stamp=stamp(),
        reason="done",
        not_required={"carer_support_plan": "Carer left the program."},
    )
    assert ledger.incident(incident_id).closed
    assert ledger.obligations(incident_id, now=datetime.now(UTC))[0].kind == "incident_report"
