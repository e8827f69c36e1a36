"""The patterns read model: built from the log alone, equal to its rebuild, on each store."""

from __future__ import annotations

import csv
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from domain.values import Client, Impact, IncidentType, Stamp
from ledger import patterns
from ledger.application import Ledger
from ledger.legacy_import import import_rows, legacy_incident_id
from projections.service import ReadModels
from tests.factories import MANAGER, OFFICER, START, LedgerStory, report_fields

pytestmark = pytest.mark.store
EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "legacy_export.csv"
CHILD = Client(ref="client-1", aboriginal=False, department_client_id="7654321")


def imported(ledger: Ledger) -> None:
    with EXAMPLE.open(newline="") as f:
        rows = enumerate(csv.DictReader(f), start=2)
        list(import_rows(ledger, rows, actor=OFFICER, now=START))


def test_patterns_view_equals_its_rebuild_after_imports_links_and_dismissals(
    ledger: Ledger, read_models: ReadModels
) -> None:
    imported(ledger)
    stories = [
        LedgerStory.report(ledger, now=START + timedelta(minutes=n), clients=[CHILD])
        for n in range(5)
    ]
    ids = [s.incident_id for s in stories]
    stamp = Stamp(actor=MANAGER, now=START + timedelta(hours=1))
    patterns.dismiss(ledger, stamp=stamp, incident_ids=ids[:3], reason="unrelated")
    fields = report_fields(types=[IncidentType.SERIOUS_RISK], impact=Impact.MAJOR, clients=[CHILD])
    patterns.escalate(ledger, stamp=stamp, pattern_of=ids[3:], reason="together", **fields)

    read_models.catch_up()

    assert read_models.verify() == {}
    found = read_models.client_incidents(
        organisations=None, department_client_id="7654321", since=START - timedelta(days=1)
    )
    assert len(found) == 6
    linked = {i["id"] for i in found if i["linked_to_pattern"]}
    assert linked == {str(x) for x in ids[3:]}
    [new] = [i for i in found if i["pattern_of"]]
    assert new["impact"] == "major" and new["pattern_of"] == [str(x) for x in ids[3:]]
    assert len(read_models.unresolved_legacy_types(organisations=None)) == 3


def test_imported_notifiable_records_reach_the_regulator_feed(
    ledger: Ledger, read_models: ReadModels
) -> None:
    imported(ledger)

    read_models.catch_up()

    items = read_models.feed("ssr", after=0, limit=100)
    incidents = {i["data"]["incident"] for i in items}
    assert str(legacy_incident_id("CIMS-2019-000101")) in incidents
    assert str(legacy_incident_id("CIMS-2023-000520")) in incidents
    assert str(legacy_incident_id("CIMS-2019-000102")) not in incidents  # not notifiable


def test_imported_records_are_listed_and_counted_by_their_original_submission(
    ledger: Ledger, read_models: ReadModels
) -> None:
    imported(ledger)

    read_models.catch_up()

    items, _ = read_models.list_incidents(organisations=None, now=START, limit=50)
    months = read_models.statistics(organisations=None, now=START)["imported"]["by_month"]
    oldest = items[-1]
    assert oldest["id"] == str(legacy_incident_id("CIMS-2019-000101"))
    assert oldest["reported_at"] == "2019-05-02T00:00:00.000000Z"
    assert months["2019-05"] == 1 and sum(months.values()) == 7


def test_imported_records_are_counted_apart_and_never_closed_on_the_import_day(
    ledger: Ledger, read_models: ReadModels
) -> None:
    imported(ledger)
    LedgerStory.report(ledger).do("record_response_plan", plan="p").later(days=2).do(
        "close", reason="done"
    )

    read_models.catch_up()

    stats = read_models.statistics(organisations=None, now=START + timedelta(days=3))
    assert (stats["incidents"], stats["closed"], stats["median_days_to_close"]) == (1, 1, 2.0)
    old = stats["imported"]
    assert old["incidents"] == 7 and old["closed"] >= 1
    assert "median_days_to_close" not in old


def test_by_month_runs_over_every_month_zero_where_none_were_reported(
    ledger: Ledger, read_models: ReadModels
) -> None:
    imported(ledger)

    read_models.catch_up()

    months = read_models.statistics(organisations=None, now=START)["imported"]["by_month"]
    keys = list(months)
    assert keys[0] == "2019-05" and keys == sorted(keys)
    # Consecutive months, however far apart the records: a true time axis.
    for a, b in pairwise(keys):
        year, month = int(a[:4]), int(a[5:])
        assert b == (f"{year + 1}-01" if month == 12 else f"{year}-{month + 1:02d}")
    assert 0 in months.values() and sum(months.values()) == 7


def test_suggestions_and_unresolved_hold_at_any_number_of_candidates(
    ledger: Ledger, read_models: ReadModels
) -> None:
    """Possible patterns over 70,000 candidate incidents (past SQLite's 32,766 and psycopg's
    65,535 bound parameters): the candidates and their dismissals are chosen in SQL, never
    bound id by id; a provider's answer and its unresolved imports come from its own rows."""
    from uuid import uuid4

    from projections import patterns as model
    from projections.db import ts

    now = START + timedelta(days=30)
    aware = ts(START + timedelta(days=1))
    rows = []
    for n in range(70_000):
        # Northside: two clients of three incidents each; the rest: one client per three.
        org = "Northside" if n < 6 else f"Provider {n // 3 % 50}"
        client = f"client-{n // 3}"
        rows.append(
            (str(uuid4()), org, aware, aware, '["physical_abuse"]', "[]",
             '["assault"]' if n < 6 else "[]", "[]", Impact.NON_MAJOR.value, "reported", "[]",
             None, "[]", f'["{client}"]', "[]", 1, None, 1)
        )  # fmt: skip
    dismissal = str(uuid4())
    with read_models.db.transaction() as tx:
        tx.insert("rm_pattern_incidents", rows, model._COLUMNS)
        tx.insert("rm_pattern_dismissals", [(dismissal, r[0]) for r in rows[3:6]])
    with read_models.db.transaction(write=False) as tx:
        everyone = model.suggestions(tx, organisations=None, now=now)
        northside = model.suggestions(tx, organisations={"Northside"}, now=now)
        unresolved = model.unresolved(tx, organisations={"Northside"}, limit=4)
    # Every client of three incidents is a possible pattern, but Northside's dismissed one.
    assert len(everyone) == 70_000 // 3 - 1
    assert [set(s["incident_ids"]) for s in northside] == [{r[0] for r in rows[:3]}]
    assert {i["organisation"] for s in northside for i in s["incidents"]} == {"Northside"}
    assert len(unresolved) == 4 and {u["organisation"] for u in unresolved} == {"Northside"}
