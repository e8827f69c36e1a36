"""`cims replay as-of` and `diff` refuse an instant later than now instead of guessing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from cli.main import app as cli_app
from domain.errors import PolicyViolation
from ledger.application import Ledger
from projections.db import Db
from replay.auditor import Auditor
from tests.factories import START, LedgerStory

pytestmark = pytest.mark.store


def test_state_as_of_the_future_is_refused_by_the_cli_with_the_rule(
    database_url: str, ledger: Ledger
) -> None:
    story = LedgerStory.report(ledger)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    env = {"CIMS_DATABASE_URL": database_url, "CIMS_CHECKPOINT_KEY": "k" * 32}
    incident = str(story.incident_id)

    as_of = CliRunner().invoke(cli_app, ["replay", "as-of", incident, "--at", tomorrow], env=env)
    diff = CliRunner().invoke(cli_app, ["replay", "diff", incident, "1", tomorrow], env=env)
    past = CliRunner().invoke(
        cli_app, ["replay", "as-of", incident, "--at", START.isoformat()], env=env
    )

    assert as_of.exit_code == 2 and "time.as-of-in-future" in as_of.output
    assert diff.exit_code == 2 and "time.as-of-in-future" in diff.output
    assert past.exit_code == 0, past.output


def test_the_auditor_judges_the_future_by_its_own_clock(database_url: str, ledger: Ledger) -> None:
    story = LedgerStory.report(ledger)
    db = Db(database_url)
    try:
        auditor = Auditor(ledger, db, clock=lambda: START + timedelta(hours=1))
        auditor.state_as_of(story.incident_id, at=START + timedelta(hours=1))
        with pytest.raises(PolicyViolation) as refused:
            auditor.state_as_of(story.incident_id, at=START + timedelta(hours=1, seconds=1))
        assert refused.value.rule_id == "time.as-of-in-future"
    finally:
        db.close()
