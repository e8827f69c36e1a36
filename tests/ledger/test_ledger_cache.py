"""The ledger's per-process cache of decoded histories (`ledger.application.Histories`) never
changes an answer: a second writer (another ledger on the same store, as another process would
be) is seen, a refused command leaves nothing behind, and over any generated sequence of commands
a cached ledger answers exactly as one that keeps nothing."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from domain.errors import DomainError, IncidentNotFound, VersionConflict
from domain.values import Stamp
from ledger.application import Ledger, RefusedByCaller, fold
from ledger.persistence import store_env
from ledger.receipts import CommandKey
from tests.domain.test_properties import MOVES, state
from tests.factories import CARER, MANAGER, REPORTER, START, report_fields


def cached(url: str, size: int = 2000) -> Ledger:
    return Ledger(env=store_env(url) | {"INCIDENT_CACHE_SIZE": str(size)})


def plain(url: str) -> Ledger:
    return Ledger(env=store_env(url) | {"INCIDENT_CACHE_SIZE": "0"})


def report(ledger: Ledger, command_id: str = "report-1") -> UUID:
    stamp = Stamp(actor=REPORTER, now=START, command_id=command_id)
    fields = report_fields(subjects_of_allegation=[CARER])
    return ledger.report(stamp=stamp, **fields).incident_id


def voice(ledger: Ledger, incident_id: UUID, expected: int, said: str = "x") -> int:
    stamp = Stamp(actor=MANAGER, now=START + timedelta(hours=1))
    return ledger.execute(
        incident_id,
        "record_client_voice",
        expected_version=expected,
        stamp=stamp,
        client_ref="client-1",
        said=said,
    ).version


def test_a_second_writer_is_seen(database_url: str) -> None:
    """Another process's event is read on the next use: the fold includes it, and a command
    expecting the version the cache last saw is a conflict naming the store's version."""
    mine, other = cached(database_url), plain(database_url)
    try:
        incident_id = report(mine)
        assert len(mine.incident_events(incident_id)) == 1  # kept now
        assert voice(other, incident_id, 1) == 2

        assert [e.originator_version for e in mine.incident_events(incident_id)] == [1, 2]
        assert mine.incident(incident_id).version == 2
        assert voice(other, incident_id, 2) == 3
        with pytest.raises(VersionConflict) as refused:
            voice(mine, incident_id, 2)
        assert refused.value.current == 3
        assert voice(mine, incident_id, 3) == 4
        assert mine.incident_events(incident_id) == other.incident_events(incident_id)
    finally:
        mine.close()
        other.close()


def test_a_history_read_before_another_writer_is_refused_by_the_store(database_url: str) -> None:
    """A command decided on a history that was current when read, but overtaken before the
    write (here: another process wrote in between), is a conflict, not a second version 2."""
    mine, other = cached(database_url), plain(database_url)
    try:
        incident_id = report(mine)
        history = mine.incident_events(incident_id)
        voice(other, incident_id, 1)
        with pytest.raises(VersionConflict):
            mine.execute(
                incident_id,
                "record_client_voice",
                expected_version=1,
                stamp=Stamp(actor=MANAGER, now=START + timedelta(hours=1)),
                history=history,
                state=fold(history),
                client_ref="client-1",
                said="late",
            )
        assert [e.said for e in mine.incident_events(incident_id)[1:]] == ["x"]  # type: ignore[attr-defined]
    finally:
        mine.close()
        other.close()


def test_a_refused_command_leaves_the_cache_as_the_store_has_it(database_url: str) -> None:
    """Refused by a rule after the aggregate was folded, by a taken idempotency key, or by a
    stale version: what the cache gives next is what the store holds, folded afresh."""
    mine, fresh = cached(database_url), plain(database_url)
    try:
        incident_id = report(mine)
        voice(mine, incident_id, 1)
        history = mine.incident_events(incident_id)
        kept = mine.histories.get(incident_id)
        with pytest.raises(DomainError):  # an unknown client: refused by the rules
            mine.execute(
                incident_id,
                "record_client_voice",
                expected_version=2,
                stamp=Stamp(actor=MANAGER, now=START + timedelta(hours=2)),
                history=history,
                state=fold(history),
                client_ref="nobody",
                said="y",
            )
        key = CommandKey(MANAGER.organisation, MANAGER.id, "k", "print")
        mine.execute(
            incident_id,
            "record_response_plan",
            expected_version=2,
            stamp=Stamp(actor=MANAGER, now=START + timedelta(hours=2)),
            key=key,
            plan="p",
        )
        with pytest.raises(DomainError):  # the same key for another request
            mine.execute(
                incident_id,
                "record_response_plan",
                expected_version=3,
                stamp=Stamp(actor=MANAGER, now=START + timedelta(hours=3)),
                key=CommandKey(MANAGER.organisation, MANAGER.id, "k", "another"),
                plan="q",
            )
        with pytest.raises(VersionConflict):
            voice(mine, incident_id, 2)

        assert mine.histories.get(incident_id)[: len(kept)] == kept
        assert mine.incident_events(incident_id) == fresh.incident_events(incident_id)
        assert state(mine.incident(incident_id)) == state(fresh.incident(incident_id))
        assert mine.incident(incident_id) is not mine.incident(incident_id)
    finally:
        mine.close()
        fresh.close()


def test_a_command_on_kept_events_answers_only_when_they_were_the_latest(
    database_url: str,
) -> None:
    """`execute_on_kept` records a command only when the store takes its version; after
    another process wrote, or when the caller's check or a rule refuses, it records nothing and
    answers None (the caller then asks the store)."""
    mine, other = cached(database_url), plain(database_url)
    later = Stamp(actor=MANAGER, now=START + timedelta(hours=1), command_id="c-1")
    voice_args: dict[str, Any] = {"client_ref": "client-1", "said": "y"}
    try:
        incident_id = report(mine)  # kept: its own committed report
        assert len(mine.histories.get(incident_id)) == 1
        voice(other, incident_id, 1)
        stale = mine.execute_on_kept(
            incident_id,
            "record_client_voice",
            expected_version=1,
            stamp=later,
            check=lambda _: None,
            **voice_args,
        )
        assert stale is None
        assert len(other.incident_events(incident_id)) == 2

        mine.incident_events(incident_id)  # now kept at 2
        refused = mine.execute_on_kept(
            incident_id,
            "record_client_voice",
            expected_version=2,
            stamp=later,
            check=lambda _: None,
            client_ref="nobody",
            said="y",
        )
        assert refused is None

        def refuse(_: Any) -> None:
            raise RefusedByCaller

        assert (
            mine.execute_on_kept(
                incident_id,
                "record_client_voice",
                expected_version=2,
                stamp=later,
                check=refuse,
                **voice_args,
            )
            is None
        )
        assert len(other.incident_events(incident_id)) == 2

        accepted = mine.execute_on_kept(
            incident_id,
            "record_client_voice",
            expected_version=2,
            stamp=later,
            check=lambda _: None,
            **voice_args,
        )
        assert accepted is not None and accepted.version == 3 and not accepted.replayed
        assert mine.incident_events(incident_id) == other.incident_events(incident_id)
    finally:
        mine.close()
        other.close()


def test_reads_up_to_a_version_and_unknown_incidents_are_the_stores(database_url: str) -> None:
    mine, fresh = cached(database_url), plain(database_url)
    try:
        incident_id = report(mine)
        for version in range(1, 4):
            voice(mine, incident_id, version)
        mine.incident_events(incident_id)
        for lte in (-1, 0, 1, 2, 4, 5, 9):
            try:
                expected: Any = fresh.incident_events(incident_id, lte=lte)
            except IncidentNotFound:
                expected = IncidentNotFound
            if expected is IncidentNotFound:
                with pytest.raises(IncidentNotFound):
                    mine.incident_events(incident_id, lte=lte)
            else:
                assert mine.incident_events(incident_id, lte=lte) == expected
        with pytest.raises(IncidentNotFound):
            mine.incident_events(uuid.uuid4())
    finally:
        mine.close()
        fresh.close()


def test_the_cache_is_bounded() -> None:
    with tempfile.TemporaryDirectory() as folder:
        mine = cached(f"sqlite:///{folder}/cims.db", size=2)
        try:
            ids = [report(mine, f"report-{n}") for n in range(3)]
            for incident_id in ids:
                mine.incident_events(incident_id)
            assert mine.histories.get(ids[0]) == ()
            assert [len(mine.histories.get(i)) for i in ids[1:]] == [1, 1]
        finally:
            mine.close()


# ---- cached and uncached ledgers, side by side over generated commands -----------------------


@contextmanager
def store(kind: str, postgres: str | None) -> Iterator[str]:
    """A fresh store for one generated example."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/cims.db"
        return
    assert postgres is not None
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{postgres}?schema={schema}"
    finally:
        with psycopg.connect(postgres, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


# (writer: 0 the ledger under test, 1 a second writer; incident 0 or 1; move; stale; hours;
# look: read every incident through the ledger under test after the step, which also brings
# what it keeps up to date; not looking leaves it behind a second writer's events)
# Mostly client voices (accepted while the incident is open), so that a second writer's
# events often leave the ledger under test behind, and a refused move then meets stale events.
VOICE = ("record_client_voice", {"client_ref": "client-1", "said": "s"})
CACHE_MOVES = [*MOVES, *[VOICE] * len(MOVES)]
STEPS = st.lists(
    st.tuples(
        st.integers(0, 1),
        st.integers(0, 1),
        st.sampled_from(range(len(CACHE_MOVES))),
        st.booleans(),
        st.integers(0, 72),
        st.sampled_from([True, False, False]),
    ),
    max_size=18,
)
Step = tuple[int, int, int, bool, int, bool]
CLOSE = next(n for n, (command, _) in enumerate(CACHE_MOVES) if command == "close")
# A second writer's voice, then a stale client's refused close on what the first still keeps.
BEHIND: list[Step] = [(1, 0, len(CACHE_MOVES) - 1, False, 1, False), (0, 0, CLOSE, True, 1, False)]


def run_side(url: str, size: int, steps: list[Step]) -> list[Any]:
    """Every answer a ledger keeping `size` histories gives over `steps`, beside a second
    writer on the same store: each command's outcome, then each incident's events and state,
    whole and up to each version."""
    under_test = cached(url, size) if size else plain(url)
    other = plain(url)
    answers: list[Any] = []
    try:
        ids = [report(under_test, "report-a"), report(other, "report-b")]
        now = START
        for writer, which, move, stale, hours, look in steps:
            ledger = (under_test, other)[writer]
            incident_id = ids[which]
            now += timedelta(hours=hours)
            command, args = CACHE_MOVES[move]
            args = dict(args)
            actor = args.pop("actor", MANAGER)
            try:
                # As the API does: decided on what is kept if that gives the answer, else
                # the usual way. With nothing kept (size 0) it is always the usual way.
                # The version the command expects: the store's (read by the uncached second
                # writer, alike in both runs), or the one before it (a stale client).
                stamp = Stamp(actor=actor, now=now)
                expected = len(other.incident_events(incident_id)) - stale
                accepted = ledger.execute_on_kept(
                    incident_id,
                    command,
                    expected_version=expected,
                    stamp=stamp,
                    check=lambda _: None,
                    **args,
                )
                if accepted is not None:
                    answers.append(("ok", accepted.version, accepted.event))
                    answers.extend(views(under_test, ids) if look else [])
                    continue
                history = ledger.incident_events(incident_id)
                accepted = ledger.execute(
                    incident_id,
                    command,
                    expected_version=expected,
                    stamp=stamp,
                    history=history,
                    state=fold(history),
                    **args,
                )
                answers.append(("ok", accepted.version, accepted.event))
            except DomainError as refused:
                answers.append((type(refused).__name__, str(refused)))
            answers.extend(views(under_test, ids) if look else [])
        return [*answers, *views(under_test, ids)]
    finally:
        under_test.close()
        other.close()


def views(ledger: Ledger, ids: list[UUID]) -> list[Any]:
    """Each incident's events (whole, compared field by field), state, and first two events."""
    found: list[Any] = []
    for incident_id in ids:
        found.append(ledger.incident_events(incident_id))
        found.append(state(ledger.incident(incident_id)))
        found.append(ledger.incident_events(incident_id, lte=2))
    return found


def same_answers(kind: str, postgres: str | None, size: int, steps: list[Any]) -> None:
    with store(kind, postgres) as a, store(kind, postgres) as b:
        assert run_side(a, size, steps) == run_side(b, 0, steps)


@settings(max_examples=40, deadline=None)
@given(size=st.sampled_from([1, 2000]), steps=STEPS)
@example(size=2000, steps=BEHIND)
def test_cached_and_uncached_ledgers_answer_alike_on_sqlite(size: int, steps: list[Step]) -> None:
    same_answers("sqlite", None, size, steps)


@settings(max_examples=15, deadline=None)
@given(size=st.sampled_from([1, 2000]), steps=STEPS)
@example(size=2000, steps=BEHIND)
def test_cached_and_uncached_ledgers_answer_alike_on_postgres(
    postgres_url: str, size: int, steps: list[Step]
) -> None:
    same_answers("postgres", postgres_url, size, steps)
