"""The auditor's fast paths give exactly the plain answers: `state_as_of` from kept snapshots
equals the plain fold at any version or instant, as the history grows and after a stored row is
edited; `verify`/`verify_all` accept on their fast path only what the reference check accepts,
and name each problem as it does; the log digest is the one checkpoints were taken with."""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from unittest import mock
from uuid import UUID, uuid4

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.base import chain_hash
from domain.errors import PolicyViolation
from ledger.application import Ledger
from projections.db import Db
from replay import as_of
from replay.auditor import Auditor
from replay.checkpoint import fold_digest
from replay.snapshots import FoldCache
from replay.store import EventRows, Row
from tests.domain.test_properties import MOVES, PATH
from tests.factories import CARER, CLIENT, major_abuse_by_carer, reported
from tests.replay.test_replay import sql

pytestmark = pytest.mark.store

DB_EXAMPLES = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def auditor(database_url: str, ledger: Ledger) -> Iterator[Auditor]:
    db = Db(database_url)
    try:
        yield Auditor(ledger, db)
    finally:
        db.close()


# The property tests' moves, and one accepted until closure, so histories grow past a few
# snapshots.
ALL_MOVES = [*MOVES, ("record_client_voice", {"client_ref": CLIENT.ref, "said": "s"})]


def history(major: bool, moves: list[tuple[int | None, int]]) -> list[Any]:
    """The events of one generated history; `hours` may go backwards (recorded times that do
    not increase with versions), where the domain lets them."""
    story = major_abuse_by_carer() if major else reported(subjects_of_allegation=[CARER])
    step = 0
    for index, hours in moves:
        command, args = PATH[min(step, len(PATH) - 1)] if index is None else ALL_MOVES[index]
        story.later(hours=hours)
        try:
            story.do(command, **args)
        except PolicyViolation:
            continue
        step += index is None
    return list(story.events)


def outcome(call: Callable[[], Any]) -> Any:
    """The answer, or the error (its type and words) where there is none."""
    try:
        return call().model_dump(mode="json")
    except Exception as exc:  # every error must be the plain path's error
        return ("raised", type(exc).__name__, str(exc))


moves_st = st.lists(
    st.tuples(
        st.one_of(st.none(), st.sampled_from(range(len(ALL_MOVES))), st.just(len(ALL_MOVES) - 1)),
        st.integers(-30, 72),
    ),
    max_size=40,
)
# A point to ask at: a version (possibly out of range), or an instant relative to an event.
points_st = st.lists(
    st.one_of(
        st.tuples(st.just("version"), st.integers(0, 100)),
        st.tuples(st.just("at"), st.tuples(st.integers(0, 45), st.integers(-3 * 3600, 3 * 3600))),
    ),
    min_size=1,
    max_size=10,
)


@DB_EXAMPLES
@given(
    major=st.booleans(),
    moves=moves_st,
    first=st.integers(1, 50),
    every=st.integers(1, 4),
    keep_rows=st.sampled_from([5, 20_000]),
    points=points_st,
    edit=st.one_of(st.none(), st.tuples(st.integers(0, 45), st.sampled_from(["swap", "bytes"]))),
)
def test_state_as_of_from_snapshots_equals_the_plain_fold(
    ledger: Ledger,
    auditor: Auditor,
    major: bool,
    moves: list[tuple[int | None, int]],
    first: int,
    every: int,
    keep_rows: int,
    points: list[tuple[str, Any]],
    edit: tuple[int, str] | None,
) -> None:
    events = history(major, moves)
    incident_id = events[0].originator_id
    folds = FoldCache(auditor.rows, every=every, keep_rows=keep_rows)
    now = events[-1].timestamp + timedelta(days=1)

    def ask(point: tuple[str, Any]) -> None:
        kind, value = point
        if kind == "version":  # now and then out of range: 0, or one past the last
            asked: dict[str, Any] = {"version": value % (len(events) + 2)}
        else:
            index, seconds = value
            moment = events[index % len(events)].timestamp + timedelta(seconds=seconds)
            asked = {"at": moment, "now": now}
        expected = outcome(lambda: as_of.state_as_of(ledger, incident_id, **asked))
        assert outcome(lambda: folds.state_as_of(incident_id, **asked)) == expected, asked

    # Unknown incident: the same refusal.
    unknown = uuid4()
    assert outcome(lambda: folds.state_as_of(unknown, version=1)) == outcome(
        lambda: as_of.state_as_of(ledger, unknown, version=1)
    )

    # A first part of the history, asked about; then the rest written (a second writer).
    ledger.events.put(events[:first])
    for point in points:
        ask(point)
    if first < len(events):
        ledger.events.put(events[first:])
        for point in [*points, ("version", len(events))]:
            ask(point)
    if edit is not None:
        # A stored row edited under the kept snapshots: they must not hide it.
        index, how = edit
        version = min(index, len(events) - 1) + 1
        stored = {n + 1: s for n, (_, s) in enumerate(auditor.rows.states_of(incident_id))}
        if how == "swap" and len(events) > 1:
            other = version % len(events) + 1
            state = stored[other]
        else:
            state = stored[version].replace(b'"actor":{', b'"actor":{"x":1,', 1)
        sql(
            auditor,
            "UPDATE {table} SET state = ? WHERE originator_id = {id} AND originator_version = ?",
            [state, incident_id, version],
        )
        for point in [*points, ("version", version), ("version", len(events))]:
            ask(point)


def test_a_snapshot_is_a_copy_the_caller_cannot_change(ledger: Ledger, auditor: Auditor) -> None:
    events = history(True, [(None, 5)] * 12)
    ledger.events.put(events)
    incident_id = events[0].originator_id
    folds = FoldCache(auditor.rows, every=2)
    first = folds.state_as_of(incident_id, version=4)
    first.state["types"].append("tampered")
    first.obligations.clear()

    again = folds.state_as_of(incident_id, version=4)

    assert again == as_of.state_as_of(ledger, incident_id, version=4)
    assert again.obligations


def test_a_fold_pickle_cannot_write_is_kept_as_a_deep_copy_instead(
    ledger: Ledger, auditor: Auditor
) -> None:
    events = history(True, [(None, 5)] * 12)
    ledger.events.put(events)
    incident_id = events[0].originator_id
    folds = FoldCache(auditor.rows, every=2)
    with mock.patch("replay.snapshots.pickle.dumps", side_effect=pickle.PicklingError("no")):
        for version in (5, 3, len(events), 4):
            first = folds.state_as_of(incident_id, version=version)
            first.state["types"].append("tampered")
            again = folds.state_as_of(incident_id, version=version)
            assert again == as_of.state_as_of(ledger, incident_id, version=version)


def test_recorded_times_out_of_version_order_fall_back_to_the_plain_fold(
    ledger: Ledger, auditor: Auditor
) -> None:
    events = history(True, [(None, 5), (None, 5), (0, -20)])
    assert events[-1].timestamp < events[-2].timestamp, "the domain refused a backdated stamp"
    ledger.events.put(events)
    incident_id = events[0].originator_id
    at = events[-2].timestamp - timedelta(seconds=1)

    # Here the plain fold refuses (the events by then skip a version); so must the cache.
    assert outcome(lambda: auditor.state_as_of(incident_id, at=at)) == outcome(
        lambda: as_of.state_as_of(ledger, incident_id, at=at)
    )
    assert outcome(lambda: auditor.state_as_of(incident_id, version=2)) == outcome(
        lambda: as_of.state_as_of(ledger, incident_id, version=2)
    )


# ---- verify ------------------------------------------------------------------------------------


def reference() -> Any:
    """The reference check alone: no fast path."""
    return mock.patch.object(EventRows, "plain_decoder", lambda self: None)


def verdicts(auditor: Auditor, incident_ids: list[UUID]) -> Any:
    return (
        [outcome(lambda i=i: auditor.verify(i)) for i in incident_ids],
        outcome(auditor.verify_all),
    )


# The fields the checks read first, then any other.
KEYS = ["originator_version", "originator_id", "prev_hash", "hash", "timestamp", "actor", "x"]
EDITS = ["byte", "field", "resealed", "resealed", "swap", "delete", "renumber", "not-an-object"]
EDITS += ["not-json", "resealed"]


@DB_EXAMPLES
@given(
    major=st.booleans(),
    moves=moves_st,
    edits=st.lists(
        st.tuples(st.sampled_from(EDITS), st.integers(0, 45), st.integers(0, 500)), max_size=2
    ),
)
def test_verify_on_its_fast_path_gives_the_reference_verdicts(
    ledger: Ledger,
    auditor: Auditor,
    major: bool,
    moves: list[tuple[int | None, int]],
    edits: list[tuple[str, int, int]],
) -> None:
    assert auditor.rows.plain_decoder() is not None  # the fast path is the one under test
    events = history(major, moves)
    ledger.events.put(events)
    incident_id = events[0].originator_id
    auditor.checkpoint()
    rows = auditor.rows.of_incident(incident_id)
    assert all(
        (type(r.position), type(r.version), type(r.topic), type(r.state)) == (int, int, str, bytes)
        for r in rows
    )
    for how, index, offset in edits:
        row = rows[min(index, len(rows) - 1)]
        state: bytes | None = row.state
        where = "originator_id = {id} AND originator_version = ?"
        if how == "byte":
            at = offset % len(row.state)
            state = row.state[:at] + bytes([(row.state[at] + 1) % 128]) + row.state[at + 1 :]
        elif how in ("field", "resealed"):
            decoded = orjson.loads(row.state)
            key = KEYS[offset % len(KEYS)]
            decoded[key] = "edited" if decoded.get(key) != "edited" else "again"
            if how == "resealed":  # its own hash made to match: only the checks after it see it
                decoded["hash"] = chain_hash(row.topic, decoded)
            state = orjson.dumps(decoded)
        elif how == "swap":
            state = rows[offset % len(rows)].state
        elif how == "not-an-object":
            state = b"[1, 2]"
        elif how == "not-json":
            state = b"{" + row.state
        if how == "delete":
            sql(auditor, "DELETE FROM {table} WHERE " + where, [incident_id, row.version])
        elif how == "renumber":
            sql(
                auditor,
                "UPDATE {table} SET originator_version = ? WHERE " + where,
                [row.version + 1000, incident_id, row.version],
            )
        else:
            sql(
                auditor,
                "UPDATE {table} SET state = ? WHERE " + where,
                [state, incident_id, row.version],
            )
    ids = [incident_id, uuid4()]
    fast = verdicts(auditor, ids)
    with reference():
        assert verdicts(auditor, ids) == fast


@pytest.mark.parametrize("key", KEYS)
def test_a_resealed_edit_of_each_checked_field_gets_the_reference_verdict(
    ledger: Ledger, auditor: Auditor, key: str
) -> None:
    events = history(False, [(len(ALL_MOVES) - 1, 1)] * 4)
    ledger.events.put(events)
    incident_id = events[0].originator_id
    row = auditor.rows.of_incident(incident_id)[2]
    decoded = orjson.loads(row.state)
    decoded[key] = "edited"
    decoded["hash"] = chain_hash(row.topic, decoded)
    sql(
        auditor,
        "UPDATE {table} SET state = ? WHERE originator_id = {id} AND originator_version = 3",
        [orjson.dumps(decoded), incident_id],
    )

    fast = verdicts(auditor, [incident_id])
    # Its own checks catch an edit of what they read; otherwise the next link breaks (resealing
    # an edited hash gives back the stored one: nothing changed).
    caught = {"hash": None, "timestamp": 4, "actor": 4, "x": 4}.get(key, 3)
    assert fast[0][0]["first_broken_version"] == caught
    with reference():
        assert verdicts(auditor, [incident_id]) == fast


def test_events_out_of_log_order_get_the_reference_verdict(
    ledger: Ledger, auditor: Auditor
) -> None:
    events = history(False, [(len(ALL_MOVES) - 1, 1)] * 4)
    ledger.events.put(events)
    incident_id = events[0].originator_id
    rows = auditor.rows.of_incident(incident_id)
    swap = "UPDATE {table} SET {position} = ? WHERE {position} = ?"
    spare = auditor.rows.head() + 1000
    for new, old in ((spare, rows[1].position), (rows[1].position, rows[2].position)):
        sql(auditor, swap, [new, old])
    sql(auditor, swap, [rows[2].position, spare])

    fast = verdicts(auditor, [incident_id])
    assert fast[0][0]["problem"].startswith("version 3 is out of log order")
    with reference():
        assert verdicts(auditor, [incident_id]) == fast


@settings(max_examples=200)
@given(
    digest=st.text("0123456789abcdef", min_size=64, max_size=64),
    position=st.integers(1, 2**62),
    version=st.integers(1, 2**31),
    topic=st.text(min_size=1),
    state=st.binary(),
)
def test_the_log_digest_is_the_one_checkpoints_were_taken_with(
    digest: str, position: int, version: int, topic: str, state: bytes
) -> None:
    incident_id = uuid4()
    row = Row(position, incident_id, version, topic, state, str(incident_id))
    item = hashlib.sha256(
        f"{position}|{incident_id}|{version}|{topic}|".encode() + state
    ).hexdigest()

    assert fold_digest(digest, row) == hashlib.sha256(f"{digest}{item}".encode()).hexdigest()
