"""Rebuilt equals live; a crash mid-batch re-applies nothing twice; a failure stops one model."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import PolicyViolation
from domain.ledger import Ledger
from projections.runner import Model
from projections.service import ReadModels
from tests.domain.test_properties import MOVES, PATH
from tests.factories import CARER, START, LedgerStory, T

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


def test_a_crash_in_the_middle_of_a_batch_reapplies_every_event_exactly_once(
    ledger: Ledger, read_models: ReadModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        LedgerStory.report(ledger, now=START + timedelta(minutes=n)).do(
            "record_response_plan", plan="p"
        )
    runner = read_models.runner
    trail = next(m for m in runner.models if m.name == "audit_trail")

    def half_then_crash(tx: Any, p: str, batch: Any) -> None:
        trail.handle(tx, p, type(batch)(batch.events[:3], batch._load))
        raise RuntimeError("worker killed mid-batch")

    crashing = Model(trail.name, trail.tables, trail.rebuilt_tables, half_then_crash)
    monkeypatch.setattr(runner, "models", [crashing if m is trail else m for m in runner.models])
    read_models.catch_up()

    status = {s["name"]: s for s in read_models.status()}
    assert status["audit_trail"]["position"] == 0
    assert "worker killed" in status["audit_trail"]["error"]
    assert status["incident_summary"]["position"] == 6  # the others kept going
    assert table(read_models, "rm_audit_trail") == []

    monkeypatch.undo()
    runner.failed_at.clear()
    read_models.catch_up()

    rows = read_models.audit_trail(incident_id=None, limit=100)
    assert [r["position"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert {s["name"]: s["error"] for s in read_models.status()}["audit_trail"] is None


def test_a_failing_read_model_stops_alone_and_resumes_from_its_position_after_the_fix(
    ledger: Ledger, read_models: ReadModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    LedgerStory.report(ledger)
    read_models.catch_up()
    runner = read_models.runner
    summary = next(m for m in runner.models if m.name == "incident_summary")

    def broken(tx: Any, p: str, batch: Any) -> None:
        raise ValueError("bug in the handler")

    monkeypatch.setattr(
        runner,
        "models",
        [
            Model(m.name, m.tables, m.rebuilt_tables, broken) if m is summary else m
            for m in runner.models
        ],
    )
    LedgerStory.report(ledger, now=START + timedelta(hours=1))
    read_models.catch_up()
    status = {s["name"]: s for s in read_models.status()}
    assert (
        status["incident_summary"]["position"],
        status["incident_summary"]["error_position"],
    ) == (1, 2)
    assert status["audit_trail"]["position"] == 2

    monkeypatch.undo()
    runner.failed_at.clear()
    read_models.catch_up()

    assert len(read_models.list_incidents(organisations=None, now=START)[0]) == 2
    assert read_models.verify() == {}
