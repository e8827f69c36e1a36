"""The CLI shows a backdated step's two instants in Melbourne time, flagged as recorded late."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from cli.main import app as cli_app
from domain.errors import PolicyViolation
from domain.values import Impact, Stamp
from ledger.application import Ledger
from tests.factories import (
    CARER,
    INVESTIGATOR,
    LedgerStory,
    T,
    investigate_to_outcome,
    recommendation,
)

pytestmark = pytest.mark.store


def major(ledger: Ledger) -> LedgerStory:
    return LedgerStory.report(
        ledger, types=[T.PHYSICAL_ABUSE], impact=Impact.MAJOR, subjects_of_allegation=[CARER]
    )


def submit(ledger: Ledger, story: LedgerStory, *, days_back: float) -> None:
    story.do("record_investigation_plan", plan="Interviews.", actor=INVESTIGATOR)
    ledger.execute(
        story.incident_id,
        "submit_investigation_report",
        expected_version=story.version,
        stamp=Stamp(
            actor=INVESTIGATOR,
            now=story.now,
            effective_at=story.now - timedelta(days=days_back),
        ),
        summary="s",
        recommendations=[recommendation()],
    )


def test_the_ledger_refuses_a_step_dated_before_awareness_on_both_stores(ledger: Ledger) -> None:
    story = investigate_to_outcome(
        LedgerStory.report(
            ledger,
            types=["Physical abuse"],
            impact="major",
            subjects_of_allegation=[{"ref": "carer-1", "role": "carer"}],
        )
    )
    story.later(days=30)

    with pytest.raises(PolicyViolation) as refused:
        submit(ledger, story, days_back=365)

    assert refused.value.rule_id == "time.effective-before-aware"
    assert len(ledger.incident_events(story.incident_id)) == story.version


def test_incidents_show_gives_both_instants_of_a_backdated_step(
    database_url: str, ledger: Ledger
) -> None:
    story = investigate_to_outcome(
        LedgerStory.report(
            ledger,
            types=["Physical abuse"],
            impact="major",
            subjects_of_allegation=[{"ref": "carer-1", "role": "carer"}],
        )
    )
    story.later(days=10)
    submit(ledger, story, days_back=5)

    result = CliRunner().invoke(
        cli_app,
        ["incidents", "show", str(story.incident_id)],
        env={"CIMS_DATABASE_URL": database_url, "COLUMNS": "250"},
    )

    assert result.exit_code == 0, result.output
    assert "(recorded late)" in result.output


def test_the_auditors_history_flags_the_backdated_step(database_url: str, ledger: Ledger) -> None:
    from projections.db import Db
    from replay.auditor import Auditor

    story = investigate_to_outcome(major(ledger))
    story.later(days=10)
    submit(ledger, story, days_back=5)
    db = Db(database_url)
    try:
        events = Auditor(ledger, db).history(story.incident_id).events
    finally:
        db.close()

    assert [e.type for e in events if e.recorded_late] == ["InvestigationReportSubmitted"]
    late = events[-1]
    assert late.effective_at is not None and late.recorded_at - late.effective_at == timedelta(
        days=5
    )


def test_every_command_passes_the_one_time_rule_before_its_own(ledger: Ledger) -> None:
    from datetime import UTC, datetime

    from ledger.application import COMMANDS

    story = major(ledger)
    refused = {}
    for command in sorted(COMMANDS):
        for effective_at, rule in [
            (story.now + timedelta(days=5 * 365), "time.effective-in-future"),
            (datetime(2000, 1, 1, tzinfo=UTC), "time.effective-before-aware"),
            (datetime(9999, 12, 31, 23, tzinfo=UTC), "time.out-of-range"),
        ]:
            stamp = Stamp(actor=INVESTIGATOR, now=story.now, effective_at=effective_at)
            with pytest.raises(PolicyViolation) as caught:
                # No arguments: the time rule refuses before the command's own rules run.
                ledger.execute(story.incident_id, command, expected_version=1, stamp=stamp)
            refused[command, rule] = caught.value.rule_id

    assert all(found == rule for (_, rule), found in refused.items()), refused
    assert len(ledger.incident_events(story.incident_id)) == 1
