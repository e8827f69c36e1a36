"""One worker per read model: `cims projections run --only` follows the named read models only,
and read-your-writes waits for every read model whoever follows it."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli.main import app as cli_app
from ledger.application import Ledger
from projections.db import Db
from projections.service import ReadModels
from tests.projections.conftest import FEED_SECRET, six_events_in_three_incidents

pytestmark = pytest.mark.store


def test_a_worker_with_only_some_read_models_moves_only_theirs(
    database_url: str, ledger: Ledger, read_models: ReadModels
) -> None:
    six_events_in_three_incidents(ledger)
    worker = ReadModels(
        Db(database_url), ledger, feed_secret=FEED_SECRET, only=["audit_trail", "statistics"]
    )
    try:
        assert [m.name for m in worker.runner.models] == ["audit_trail", "statistics"]
        worker.catch_up()
        positions = {s["name"]: s["position"] for s in read_models.status()}
        assert positions == {
            m.name: 6 if m.name in ("audit_trail", "statistics") else 0
            for m in read_models.runner.models
        }
        assert {"incident_summary", "regulator_feed"} <= set(positions)
        # Neither the worker nor a query process counts as caught up until all are.
        assert worker.position() == read_models.position() == 0
        assert not worker.wait_for(6, timeout=0.1)
        read_models.catch_up()
        assert worker.position() == 6 and worker.wait_for(6, timeout=0.1)
        assert read_models.verify() == {}
    finally:
        worker.close()


def test_an_unknown_read_model_is_refused_naming_the_read_models(
    database_url: str, ledger: Ledger
) -> None:
    with pytest.raises(ValueError, match="no read model named feeds; the read models are"):
        ReadModels(Db(database_url), ledger, feed_secret=FEED_SECRET, only=["feeds"])
    result = CliRunner().invoke(
        cli_app,
        ["projections", "run", "--until-idle", "--only", "audit_trail,feeds"],
        env={
            "CIMS_DATABASE_URL": database_url,
            "CIMS_FEED_SECRET": FEED_SECRET.decode(),
            "CIMS_CHECKPOINT_KEY": "test-checkpoint-key-of-at-least-32-bytes",
        },
    )
    assert result.exit_code == 2, result.output
    assert "no read model named feeds" in result.output
    assert "incident_summary" in result.output
