"""Rebuilt equals live; a crash mid-batch re-applies nothing twice; a failure stops one model."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import PolicyViolation
from ledger.application import Ledger
from projections.base import Batch
from projections.runner import Handler
from projections.service import ReadModels
from tests.domain.test_properties import MOVES, PATH
from tests.factories import CARER, START, LedgerStory, T
from tests.projections.conftest import replace_handler, six_events_in_three_incidents

pytestmark = pytest.mark.store


def table(read_models: ReadModels, name: str) -> list[Any]:
    with read_models.db.transaction() as tx:
        return sorted(map(repr, tx.execute(f"SELECT * FROM {name}")))


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    moves=st.lists(st.one_of(st.none(), st.sampled_from(range(len(MOVES)))), max_size=25),
    major=st.booleans(),
)
def test_rebuilt_read_models_equal_the_live_ones_after_any_history(
    ledger: Ledger, read_models: ReadModels, moves: list[int | None], major: bool
) -> None:
    story = LedgerStory.report(
        ledger,
        subjects_of_allegation=[CARER],
        types=[T.PHYSICAL_ABUSE] if major else [T.INJURY_EXPLAINED],
        impact="major" if major else "non_major",
    )
    step = 0
    for index in moves:
        command, args = PATH[min(step, len(PATH) - 1)] if index is None else MOVES[index]
        story.later(hours=7)
        try:
            story.do(command, **args)
        except PolicyViolation:
            continue
        step += index is None
        if len(moves) % 3 == 0:
            read_models.catch_up()  # live models advance in uneven batches
    read_models.catch_up()

    assert read_models.verify() == {}
    before = {
        t: table(read_models, t)
        for t in ("rm_incident_summary", "rm_obligations", "rm_audit_trail", "rm_regulator_feed")
    }
    read_models.rebuild()
    assert {t: table(read_models, t) for t in before} == before


def test_a_rebuild_in_two_processes_equals_the_live_read_models(
    ledger: Ledger, read_models: ReadModels
) -> None:
    six_events_in_three_incidents(ledger)
    story = LedgerStory.report(
        ledger, subjects_of_allegation=[CARER], types=[T.PHYSICAL_ABUSE], impact="major"
    )
    for command, args in PATH[:5]:
        story.later(hours=7).do(command, **args)
    read_models.catch_up()
    tables = [t for m in read_models.runner.models for t in m.rebuilt_tables("rm_")]
    live = {t: table(read_models, t) for t in tables}

    read_models.rebuild(workers=2)

    assert {t: table(read_models, t) for t in tables} == live
    head = ledger.recorder.max_notification_id()
    assert {s["name"]: s["position"] for s in read_models.status()} == {
        m.name: head for m in read_models.runner.models
    }
    assert read_models.verify() == {}


def test_a_crash_in_the_middle_of_a_batch_reapplies_every_event_exactly_once(
    ledger: Ledger, read_models: ReadModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    six_events_in_three_incidents(ledger)

    def half_then_crash(handle: Handler) -> Handler:
        def crash(tx: Any, p: str, batch: Batch) -> None:
            handle(tx, p, Batch(batch.events[:3], batch.load))
            raise RuntimeError("worker killed mid-batch")

        return crash

    replace_handler(monkeypatch, read_models, "audit_trail", half_then_crash)
    read_models.catch_up()

    status = {s["name"]: s for s in read_models.status()}
    assert status["audit_trail"]["position"] == 0
    assert "worker killed" in status["audit_trail"]["error"]
    assert status["incident_summary"]["position"] == 6  # the others kept going
    assert table(read_models, "rm_audit_trail") == []

    monkeypatch.undo()
    read_models.runner.failed_at.clear()
    read_models.catch_up()

    rows = read_models.audit_trail(incident_id=None, limit=100)
    assert [r["position"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert {s["name"]: s["error"] for s in read_models.status()}["audit_trail"] is None


def test_a_failing_read_model_stops_alone_and_resumes_from_its_position_after_the_fix(
    ledger: Ledger, read_models: ReadModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    LedgerStory.report(ledger)
    read_models.catch_up()

    def broken(handle: Handler) -> Handler:
        def fail(tx: Any, p: str, batch: Batch) -> None:
            raise ValueError("bug in the handler")

        return fail

    replace_handler(monkeypatch, read_models, "incident_summary", broken)
    LedgerStory.report(ledger, now=START + timedelta(hours=1))
    read_models.catch_up()
    status = {s["name"]: s for s in read_models.status()}
    assert (
        status["incident_summary"]["position"],
        status["incident_summary"]["error_position"],
    ) == (1, 2)
    assert status["audit_trail"]["position"] == 2

    monkeypatch.undo()
    read_models.runner.failed_at.clear()
    read_models.catch_up()

    assert len(read_models.list_incidents(organisations=None, now=START)[0]) == 2
    assert read_models.verify() == {}


STALL_IN_THE_MIDDLE_OF_A_BATCH = """
import pathlib, sys, time
from ledger.application import Ledger
from projections.runner import Model
from projections.service import ReadModels

url, written = sys.argv[1], pathlib.Path(sys.argv[2])
models = ReadModels.open(url, Ledger.from_url(url), feed_secret=b"test-secret")
(trail,) = [m for m in models.runner.models if m.name == "audit_trail"]

def stall(tx, p, batch):
    trail.handle(tx, p, batch)  # the batch's rows are written but not yet committed
    written.write_text(str(len(batch.events)))
    time.sleep(120)

models.runner.models = [Model(trail.name, trail.tables, trail.rebuilt_tables, stall)]
models.catch_up()
"""


def test_a_worker_killed_in_the_middle_of_a_batch_leaves_nothing_half_done(
    database_url: str, ledger: Ledger, read_models: ReadModels, tmp_path: Path
) -> None:
    six_events_in_three_incidents(ledger)
    written = tmp_path / "written"
    worker = subprocess.Popen(
        [sys.executable, "-c", STALL_IN_THE_MIDDLE_OF_A_BATCH, database_url, str(written)],
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        deadline = time.monotonic() + 60
        while not written.exists():
            assert worker.poll() is None, "the worker ended before writing its batch"
            assert time.monotonic() < deadline, "the worker never wrote its batch"
            time.sleep(0.05)
        assert written.read_text() == "6"
    finally:
        worker.kill()  # SIGKILL: no rollback by the worker itself
        worker.wait()

    assert table(read_models, "rm_audit_trail") == []
    assert {s["name"]: s["position"] for s in read_models.status()}["audit_trail"] == 0
    read_models.catch_up()

    rows = read_models.audit_trail(incident_id=None, limit=100)
    assert [r["position"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert read_models.verify() == {}
