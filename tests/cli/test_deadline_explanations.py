"""`cims incidents show` says why each date is what it is (issue 20, item 6)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ledger.application import Ledger
from tests.cli.conftest import Cims
from tests.factories import LedgerStory

pytestmark = pytest.mark.store
# Thursday 17 April 2025, 09:00 in Melbourne: the report's 3 business days skip Easter.
AWARE = datetime(2025, 4, 16, 23, 0, tzinfo=UTC)


def test_show_explains_each_deadline_naming_the_days_it_skipped(cims: Cims, ledger: Ledger) -> None:
    story = LedgerStory.report(
        ledger,
        now=AWARE + timedelta(hours=1),
        occurred_at=AWARE - timedelta(hours=1),
        became_aware_at=AWARE,
    )

    shown = cims("incidents", "show", str(story.incident_id), env={"COLUMNS": "400"})
    as_json = cims("incidents", "show", str(story.incident_id), "--json")

    assert shown.exit_code == 0, shown.output
    assert "Why these dates?" in shown.stdout
    assert "Good Friday" in shown.stdout and "Easter Monday" in shown.stdout
    assert "17:00 on Thursday 24 April 2025" in shown.stdout
    report = next(
        o for o in json.loads(as_json.stdout)["obligations"] if o["kind"] == "incident_report"
    )
    assert [s["name"] for s in report["explanation"]["skipped"]] == [
        "Good Friday",
        "Easter Saturday",
        "Easter Sunday",
        "Easter Monday",
    ]
