"""A failure pinned to its event; list filters; the feeds' privacy over any history."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import PolicyViolation
from domain.values import Actor, Role
from ledger.application import Ledger
from projections.base import Batch
from projections.db import ts
from projections.runner import Handler
from projections.service import ReadModels
from tests.domain.test_properties import MOVES, PATH
from tests.factories import (
    ABORIGINAL_CLIENT,
    CARER,
    CLIENT,
    INVESTIGATOR,
    START,
    LedgerStory,
    T,
    outcome,
    recommendation,
    report_fields,
)
from tests.projections.conftest import replace_handler, six_events_in_three_incidents

pytestmark = pytest.mark.store
EVERYONE = None
CLOUDEVENT_KEYS = {
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "subject",
    "datacontenttype",
    "data",
    "cursor",
}
# Arguments that carry someone's words; none of them may reach a regulator.
FREE_TEXT = {
    "stage",
    "consulted",
    "reason",
    "declaration",
    "response",
    "description",
    "rationale",
    "summary",
    "what_happened",
    "contributing_factors",
    "plan",
    "action",
}


def marked(args: dict[str, Any]) -> dict[str, Any]:
    """The move's arguments with each free-text value made recognisable."""
    return {k: f"WORDS of {k}" if k in FREE_TEXT else v for k, v in args.items()}


def play(story: LedgerStory, moves: list[int | None], *, hours: float) -> None:
    """Random moves interleaved with steps along the path to closure; refusals are skipped."""
    step = 0
    for index in moves:
        command, args = PATH[min(step, len(PATH) - 1)] if index is None else MOVES[index]
        story.later(hours=hours)
        try:
            story.do(command, **marked(args))
        except PolicyViolation:
            continue
        step += index is None


def test_a_failure_in_the_middle_of_a_batch_keeps_the_events_before_it_and_names_its_event(
    ledger: Ledger, read_models: ReadModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    six_events_in_three_incidents(ledger)
    positions = [n.id for n in ledger.recorder.select_notifications(start=1, limit=100)]
    poisoned = positions[3]

    def fails_on_one_event(handle: Handler) -> Handler:
        def summarise(tx: Any, p: str, batch: Batch) -> None:
            if any(position == poisoned for position, _ in batch.events):
                raise ValueError("cannot summarise this event")
            handle(tx, p, batch)

        return summarise

    replace_handler(monkeypatch, read_models, "incident_summary", fails_on_one_event)
    read_models.catch_up()

    status = {s["name"]: s for s in read_models.status()}
    assert status["incident_summary"]["position"] == positions[2]
    assert status["incident_summary"]["error_position"] == poisoned
    assert "cannot summarise" in status["incident_summary"]["error"]
    assert status["obligations"]["position"] == positions[-1]
    listed, _ = read_models.list_incidents(organisations=EVERYONE, now=START)
    assert len(listed) == 2  # the events before the poisoned one were kept

    monkeypatch.undo()
    read_models.runner.failed_at.clear()
    read_models.catch_up()

    assert {s["name"]: s["position"] for s in read_models.status()}["incident_summary"] == (
        positions[-1]
    )
    assert read_models.verify() == {}


def test_the_incident_list_filters_by_stage_type_impact_aboriginality_and_organisation(
    ledger: Ledger, read_models: ReadModels
) -> None:
    abuse = LedgerStory.report(
        ledger,
        types=[T.PHYSICAL_ABUSE],
        impact="major",
        subjects_of_allegation=[CARER],
        clients=[ABORIGINAL_CLIENT],
    ).do("determine_follow_up", kind="investigation", reason="abuse by a carer")
    shared = LedgerStory.report(
        ledger, now=START + timedelta(minutes=1), other_provider="Eastside Housing"
    )
    read_models.catch_up()

    def ids(**filters: Any) -> set[str]:
        items, _ = read_models.list_incidents(now=START, **filters)
        return {i["id"] for i in items}

    assert ids(organisations=EVERYONE, stage="follow_up_determined") == {str(abuse.incident_id)}
    assert ids(organisations=EVERYONE, type="Physical abuse") == {str(abuse.incident_id)}
    assert ids(organisations=EVERYONE, impact="non_major") == {str(shared.incident_id)}
    assert ids(organisations=EVERYONE, aboriginal=True) == {str(abuse.incident_id)}
    assert ids(organisations=EVERYONE, organisation="Eastside Housing") == {str(shared.incident_id)}
    # The other provider named as responsible sees that incident, and only that one.
    assert ids(organisations={"Eastside Housing"}) == {str(shared.incident_id)}
    worklist, _ = read_models.worklist(organisations={"Eastside Housing"}, now=START)
    assert {i["incident_id"] for i in worklist} == {str(shared.incident_id)}


def test_the_access_log_raises_when_it_cannot_be_written(
    ledger: Ledger, read_models: ReadModels
) -> None:
    story = LedgerStory.report(ledger)
    with read_models.db.transaction() as tx:
        tx.execute("DROP TABLE rm_access_log")

    with pytest.raises(Exception, match="rm_access_log"):
        read_models.log_access(
            actor=INVESTIGATOR, incident_id=story.incident_id, what="incident", at=START
        )


def test_the_ssr_is_told_when_an_incident_leaves_its_remit_and_then_nothing_more(
    ledger: Ledger, read_models: ReadModels
) -> None:
    story = LedgerStory.report(ledger, regulator_category="notifiable")
    story.do("reclassify", regulator_category="none", reason="No hospital treatment after all")
    story.do("record_response_plan", plan="p").later(days=1).do("close", reason="done")
    read_models.catch_up()

    items = read_models.feed("ssr")

    assert [i["type"].rsplit(".", 1)[1] for i in items] == ["reported", "reclassified"]
    assert items[1]["data"]["regulator_category"] == "none"


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    moves=st.lists(st.one_of(st.none(), st.sampled_from(range(len(MOVES)))), max_size=20),
    category=st.sampled_from(["critical", "notifiable"]),
)
def test_no_feed_ever_carries_a_reference_in_clear_or_anyones_words(
    ledger: Ledger, read_models: ReadModels, moves: list[int | None], category: str
) -> None:
    story = LedgerStory.report(
        ledger,
        subjects_of_allegation=[CARER],
        clients=[CLIENT, ABORIGINAL_CLIENT],
        types=[T.PHYSICAL_ABUSE],
        impact="major",
        regulator_category=category,
    )
    play(story, moves, hours=9)
    read_models.catch_up()

    details = report_fields()["details"]
    forbidden_words = [
        "WORDS of",
        details.description,
        details.location,
        details.immediate_actions,
        outcome().rationale,
        recommendation().text,
    ]
    forbidden_refs = [CLIENT.ref, ABORIGINAL_CLIENT.ref, CARER.ref, INVESTIGATOR.id]
    for regulator in ("ssr", "ccyp"):
        items = read_models.feed(regulator, limit=1000)
        raw = json.dumps(items)
        assert not [w for w in forbidden_words if w in raw]
        assert not [r for r in forbidden_refs if json.dumps(r) in raw]
        assert all(set(i) == CLOUDEVENT_KEYS and i["specversion"] == "1.0" for i in items)
        cursors = [i["cursor"] for i in items]
        assert cursors == sorted(set(cursors))
    assert read_models.feed("ssr")[0]["type"].endswith(".reported")


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moves=st.lists(st.one_of(st.none(), st.sampled_from(range(len(MOVES)))), max_size=20))
def test_the_worklist_says_what_the_obligations_function_says_at_any_later_moment(
    ledger: Ledger, read_models: ReadModels, moves: list[int | None]
) -> None:
    story = LedgerStory.report(
        ledger, subjects_of_allegation=[CARER], types=[T.PHYSICAL_ABUSE], impact="major"
    )
    play(story, moves, hours=30)
    read_models.catch_up()

    for later in (timedelta(0), timedelta(days=3), timedelta(days=45)):
        now = story.now + later
        expected = sorted(
            (o.kind, ts(o.due), ts(o.met_at), o.status.value)
            for o in ledger.obligations(story.incident_id, now=now)
        )
        items, _ = read_models.worklist(
            organisations=EVERYONE, now=now, incident_id=str(story.incident_id)
        )
        assert sorted((i["kind"], i["due"], i["met_at"], i["status"]) for i in items) == expected


def test_the_worklist_pages_each_callers_obligations_in_order_whoever_is_responsible(
    ledger: Ledger, read_models: ReadModels
) -> None:
    """Reported by an organisation or naming it responsible: a caller's worklist, page by page
    and with any filter, is exactly the rows of the table it may see, in the worklist's order
    (read in two halves, one per column, since the one-`OR` query took half a second at a
    million incidents)."""
    orgs = ["Northside CSO", "Eastside Housing", "Westside Care"]
    for n in range(12):
        reporter = Actor(id=f"r{n}", role=Role.REPORTER, organisation=orgs[n % 3])
        other = orgs[(n + 1) % 3] if n % 4 else None
        story = LedgerStory.report(
            ledger, actor=reporter, now=START + timedelta(hours=n), other_provider=other
        )
        if n % 3 == 0:
            play(story, [0, 1, 2], hours=30)
    read_models.catch_up()
    with read_models.db.transaction(write=False) as tx:
        rows = tx.execute(
            "SELECT incident_id, kind, organisation, other_provider, due, settled_status"
            " FROM rm_obligations"
        )
    now = START + timedelta(days=2)

    def expected(whose: set[str] | None, organisation: str | None, status: str | None) -> list:
        kept = [
            r
            for r in rows
            if (whose is None or r[2] in whose or r[3] in whose)
            and (organisation is None or organisation in (r[2], r[3]))
            and (
                status is None
                or (status == "overdue" and r[5] is None and r[4] is not None and r[4] < ts(now))
                or (status == "open" and r[5] is None and (r[4] is None or r[4] >= ts(now)))
                or (status not in ("overdue", "open") and r[5] == status)
            )
        ]
        return sorted((r[4] or "9999", r[0], r[1]) for r in kept)

    for whose in (None, {orgs[0]}, {orgs[1]}, {orgs[0], orgs[2]}, set()):
        for organisation in (None, orgs[1]):
            for status in (None, "overdue", "open", "met"):
                found, cursor = [], None
                while True:
                    items, cursor = read_models.worklist(
                        organisations=whose,
                        now=now,
                        organisation=organisation,
                        status=status,
                        cursor=cursor,
                        limit=4,
                    )
                    found += [(i["due"] or "9999", i["incident_id"], i["kind"]) for i in items]
                    if cursor is None:
                        break
                assert found == expected(whose, organisation, status), (whose, organisation, status)
