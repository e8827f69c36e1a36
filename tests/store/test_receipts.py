"""Command receipts: a principal's idempotency key is reserved in the transaction that records
its command's events, so the two commit together or not at all, on both stores."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from eventsourcing.persistence import DataError

from domain.errors import IdempotencyKeyReused, VersionConflict
from domain.values import Actor, Stamp
from ledger.application import Accepted, Ledger
from ledger.receipts import CommandKey, ReceiptPostgresRecorder
from tests.factories import MANAGER, REPORTER, START, report_fields

T = TypeVar("T")


def key(actor: Actor, value: str, fingerprint: str) -> CommandKey:
    return CommandKey(actor.organisation, actor.id, value, fingerprint)


def stamp(actor: Actor, command_id: str | None = None) -> Stamp:
    return Stamp(actor=actor, now=START, command_id=command_id)


@pytest.fixture
def second_ledger(database_url: str) -> Iterator[Ledger]:
    """Another ledger on the same store: another API process, as far as the store can tell."""
    app = Ledger.from_url(database_url)
    try:
        yield app
    finally:
        app.close()


def at_once(*calls: Callable[[], T]) -> list[T | BaseException]:
    barrier = threading.Barrier(len(calls))
    results: list[T | BaseException] = [RuntimeError("not run")] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_different_reports_with_one_key_from_two_processes_record_one(
    ledger: Ledger, second_ledger: Ledger
) -> None:
    for round_ in range(5):
        results = at_once(
            lambda round_=round_: ledger.report(  # type: ignore[misc]
                stamp=stamp(REPORTER, f"a{round_}"),
                key=key(REPORTER, f"k{round_}", "print-a"),
                **report_fields(impact="major"),
            ),
            lambda round_=round_: second_ledger.report(  # type: ignore[misc]
                stamp=stamp(REPORTER, f"b{round_}"),
                key=key(REPORTER, f"k{round_}", "print-b"),
                **report_fields(),
            ),
        )

        won = [r for r in results if isinstance(r, Accepted)]
        lost = [r for r in results if not isinstance(r, Accepted)]
        assert len(won) == 1 and len(lost) == 1, results
        assert isinstance(lost[0], IdempotencyKeyReused), lost
    assert len(list(ledger.incident_ids())) == 5


def test_one_report_sent_twice_at_once_is_one_incident_and_one_answer(
    ledger: Ledger, second_ledger: Ledger
) -> None:
    same = key(REPORTER, "twice", "print")
    results = at_once(
        lambda: ledger.report(stamp=stamp(REPORTER, "c1"), key=same, **report_fields()),
        lambda: second_ledger.report(stamp=stamp(REPORTER, "c2"), key=same, **report_fields()),
    )

    assert all(isinstance(r, Accepted) for r in results), results
    first, second = results
    assert isinstance(first, Accepted) and isinstance(second, Accepted)
    assert (first.incident_id, first.position, first.event.hash) == (
        second.incident_id,
        second.position,
        second.event.hash,
    )
    assert list(ledger.incident_ids()) == [first.incident_id]


def test_one_command_sent_twice_at_once_is_one_event_in_one_process_too(ledger: Ledger) -> None:
    """Group commit may put both in one transaction: the batch fails on the key and each is
    written again alone, the second answered from the first's receipt."""
    incident_id = ledger.report(stamp=stamp(REPORTER), **report_fields()).incident_id
    same = key(MANAGER, "twice", "print")

    def send(command_id: str) -> Callable[[], Accepted]:
        return lambda: ledger.execute(
            incident_id,
            "record_response_plan",
            expected_version=1,
            stamp=stamp(MANAGER, command_id),
            key=same,
            plan="Supervision plan",
        )

    results = at_once(send("c1"), send("c2"), send("c3"))

    assert all(isinstance(r, Accepted) for r in results), results
    assert {r.version for r in results if isinstance(r, Accepted)} == {2}
    assert [e.originator_version for e in ledger.incident_events(incident_id)] == [1, 2]


def test_a_refused_command_leaves_its_key_unreserved(ledger: Ledger) -> None:
    incident_id = ledger.report(stamp=stamp(REPORTER), **report_fields()).incident_id
    stale = ledger.incident_events(incident_id)
    ledger.execute(
        incident_id, "record_response_plan", expected_version=1, stamp=stamp(MANAGER), plan="p"
    )
    mine = key(MANAGER, "late", "print")

    with pytest.raises(VersionConflict):
        # The history read before the other writer: the store's (incident, version) key refuses.
        ledger.execute(
            incident_id,
            "record_response_plan",
            expected_version=1,
            stamp=stamp(MANAGER, "c-late"),
            history=stale,
            key=mine,
            plan="q",
        )

    assert ledger.recall(mine) is None
    retried = ledger.execute(
        incident_id,
        "record_response_plan",
        expected_version=2,
        stamp=stamp(MANAGER, "c-late-2"),
        key=mine,
        plan="q",
    )
    assert ledger.recall(mine) == retried


def test_a_key_is_never_answered_across_principals(ledger: Ledger) -> None:
    incident_id = ledger.report(stamp=stamp(REPORTER), **report_fields()).incident_id
    colleague = MANAGER.model_copy(update={"id": "another.manager"})
    mine = ledger.execute(
        incident_id,
        "record_response_plan",
        expected_version=1,
        stamp=stamp(MANAGER, "c1"),
        key=key(MANAGER, "k", "print"),
        plan="p",
    )

    assert ledger.recall(key(colleague, "k", "print")) is None
    with pytest.raises(IdempotencyKeyReused):
        ledger.recall(key(MANAGER, "k", "another request"))
    assert ledger.recall(key(MANAGER, "k", "print")) == mine


def test_a_command_id_is_not_recognised_as_anothers_command(ledger: Ledger) -> None:
    """The ledger's duplicate check compared only the raw command id: another principal's
    command with the same id on the same version was answered with the first one's event."""
    incident_id = ledger.report(stamp=stamp(REPORTER), **report_fields()).incident_id
    ledger.execute(
        incident_id,
        "record_response_plan",
        expected_version=1,
        stamp=stamp(MANAGER, "same-id"),
        plan="p",
    )

    with pytest.raises(VersionConflict):
        ledger.execute(
            incident_id,
            "record_response_plan",
            expected_version=1,
            stamp=stamp(MANAGER.model_copy(update={"organisation": "Eastside"}), "same-id"),
            plan="p",
        )


def test_the_receipt_and_the_events_roll_back_together(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store failure after the receipt's insert, inside the events' transaction, leaves
    neither: the key can be used again and no event was recorded."""
    incident_id = ledger.report(stamp=stamp(REPORTER), **report_fields()).incident_id
    # The library's own events insert, which runs after our receipts' insert.
    library = type(ledger.recorder).__mro__[1]
    name = (
        "_insert_stored_events" if hasattr(library, "lock_table_statements") else "_insert_events"
    )
    real = getattr(library, name)

    def insert_then_fail(self: Any, *args: Any, **kwargs: Any) -> Any:
        real(self, *args, **kwargs)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(library, name, insert_then_fail)
    failure: type[Exception] = RuntimeError
    if isinstance(ledger.recorder, ReceiptPostgresRecorder):
        # PostgreSQL saves in one statement (a server-side function): fail it after the
        # function has inserted the receipt and the events (a division by zero counted at
        # run time, so it is not folded away before the function runs).
        statement = ledger.recorder.insert_function_statement + (
            f" UNION ALL SELECT 1 / (count(*) - count(*)) FROM {ledger.recorder.receipts_table}"
        )
        monkeypatch.setattr(ledger.recorder, "insert_function_statement", statement)
        failure = DataError
    mine = key(MANAGER, "k", "print")
    with pytest.raises(failure):
        ledger.execute(
            incident_id,
            "record_response_plan",
            expected_version=1,
            stamp=stamp(MANAGER, "c1"),
            key=mine,
            plan="p",
        )
    monkeypatch.undo()

    assert ledger.recall(mine) is None
    assert len(ledger.incident_events(incident_id)) == 1


def test_ledgers_set_up_a_new_store_together_without_a_collision(database_url: str) -> None:
    """Several processes starting on an empty store at once (API processes, workers) each set
    up the log's tables, types and functions; on PostgreSQL they raced (a duplicate
    `CREATE TYPE`, "tuple concurrently updated") until the set-up took a lock."""
    failures: list[BaseException] = []
    start = threading.Barrier(6)

    def open_one() -> None:
        try:
            start.wait()
            Ledger.from_url(database_url).close()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    ledger = Ledger.from_url(database_url)
    try:
        assert ledger.report(stamp=stamp(REPORTER), **report_fields()).version == 1
    finally:
        ledger.close()
