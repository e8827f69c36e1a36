"""A release that changes a read model's tables: the model is rebuilt from the log on start,
not written into tables of the old shape; the others, and the access log, are left alone."""

from __future__ import annotations

import pytest

from ledger.application import Ledger
from projections.service import ReadModels
from tests.factories import MANAGER, START
from tests.projections.conftest import six_events_in_three_incidents

pytestmark = pytest.mark.store


def test_a_read_model_whose_tables_changed_is_rebuilt_and_the_rest_kept(
    database_url: str, ledger: Ledger
) -> None:
    six_events_in_three_incidents(ledger)
    models = ReadModels.open(database_url, ledger, feed_secret=b"test-secret")
    models.catch_up()
    # As an earlier release left it: the type table without its date, and its old fingerprint.
    with models.db.transaction() as tx:
        tx.execute("DROP TABLE rm_incident_types")
        tx.execute("CREATE TABLE rm_incident_types (incident_id TEXT, incident_type TEXT)")
        tx.execute("UPDATE rm_tracking SET tables = 'earlier' WHERE view = 'incident_summary'")
    models.log_access(actor=MANAGER, incident_id=None, what="list", at=START)
    models.close()

    reopened = ReadModels.open(database_url, ledger, feed_secret=b"test-secret")
    try:
        positions = {s["name"]: s["position"] for s in reopened.status()}
        assert positions["incident_summary"] == 0  # to be rebuilt
        assert positions["audit_trail"] == 6  # untouched
        reopened.catch_up()
        items, _ = reopened.list_incidents(
            organisations=None, now=START, incident_type="Injury-explained"
        )
        assert len(items) == 3
        assert reopened.verify() == {}
        assert len(reopened.access_log()) == 1  # what was read is never dropped
    finally:
        reopened.close()


def test_a_read_model_derived_differently_is_rebuilt_though_its_tables_did_not_change(
    database_url: str, ledger: Ledger
) -> None:
    from projections import regulator_feed
    from projections.runner import Model, tables_digest

    def feed_model(derivation: int) -> Model:
        return Model(
            "regulator_feed",
            regulator_feed.tables,
            regulator_feed.rebuilt_tables,
            regulator_feed.handler(b"s"),
            derivation=derivation,
        )

    # The same tables, derived anew (pseudonyms per provider): another fingerprint.
    assert tables_digest(feed_model(1)) != tables_digest(feed_model(regulator_feed.DERIVATION))
    six_events_in_three_incidents(ledger)
    models = ReadModels.open(database_url, ledger, feed_secret=b"test-secret")
    models.catch_up()
    with models.db.transaction() as tx:  # as the release before the derivation left it
        tx.execute(
            "UPDATE rm_tracking SET tables = ? WHERE view = 'regulator_feed'",
            [tables_digest(feed_model(1))],
        )
    models.close()

    reopened = ReadModels.open(database_url, ledger, feed_secret=b"test-secret")
    try:
        positions = {s["name"]: s["position"] for s in reopened.status()}
        assert positions["regulator_feed"] == 0 and positions["audit_trail"] == 6
    finally:
        reopened.close()
