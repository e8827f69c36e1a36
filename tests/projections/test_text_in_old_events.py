"""An event stored before the text rule, holding a NUL (as a legacy import once stored them on
PostgreSQL), is projected like any other: PostgreSQL's read models keep the replacement
character in its place, and no read model stops. A clean report made after it reaches the
worklist and the statistics. Before, five read models stopped for good at that event."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from domain.incident import Incident
from domain.values import Actor, Role, Stamp
from ledger.application import Ledger
from projections.db import NUL_KEPT_AS
from projections.service import ReadModels
from tests.factories import START, LedgerStory, report_fields

pytestmark = pytest.mark.store


def stored_before_the_rule(ledger: Ledger) -> None:
    """An incident whose organisation, client and description hold a NUL, saved past the rule
    (as the store kept it before there was one)."""
    organisation = "Northside\x00 CSO"
    fields = report_fields(regulator_category="notifiable")
    fields["details"] = fields["details"].model_copy(update={"description": "Bruise\x00 on arm"})
    fields["clients"] = [fields["clients"][0].model_copy(update={"ref": "client\x00-7"})]
    actor = Actor(id="importer", role=Role.INCIDENT_MANAGER, organisation=organisation)
    incident = Incident.report(stamp=Stamp(actor=actor, now=START), incident_id=uuid4(), **fields)
    ledger.save(incident)


def test_an_old_event_holding_nul_is_projected_and_a_clean_report_after_it_reaches_every_view(
    ledger: Ledger, read_models: ReadModels
) -> None:
    stored_before_the_rule(ledger)
    clean = LedgerStory.report(ledger, now=START + timedelta(minutes=5))

    read_models.catch_up()

    head = ledger.recorder.max_notification_id()
    assert [(s["name"], s["position"], s["error"]) for s in read_models.status()] == [
        (s["name"], head, None) for s in read_models.status()
    ]
    later = START + timedelta(hours=1)
    worklist, _ = read_models.worklist(organisations=None, now=later)
    assert str(clean.incident_id) in {row["incident_id"] for row in worklist}
    assert read_models.statistics(organisations=None, now=later)["incidents"] == 2
    kept = "\x00" if not read_models.db.postgres else NUL_KEPT_AS
    organisations = read_models.statistics(organisations=None, now=later)["by_organisation"]
    assert f"Northside{kept} CSO" in organisations
    assert read_models.verify() == {}
