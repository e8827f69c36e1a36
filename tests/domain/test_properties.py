"""Properties over any sequence of commands: replay is faithful and closure is never premature."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import PolicyViolation
from ledger.application import fold
from tests.factories import (
    CARER,
    CLIENT,
    INVESTIGATOR,
    REVIEWER,
    REVIEWER_PRINCIPAL,
    major_abuse_by_carer,
    outcome,
    recommendation,
    reported,
)

MOVES: list[tuple[str, dict[str, Any]]] = [
    ("record_notification", {"kind": "police", "recipient": "VP"}),
    ("record_notification", {"kind": "regulator_short_form", "recipient": "SSR"}),
    ("record_aboriginal_consultation", {"body": "acsass", "stage": "closure", "consulted": "c"}),
    ("determine_follow_up", {"kind": "investigation", "reason": "r"}),
    ("determine_follow_up", {"kind": "incident_review", "reason": "r"}),
    (
        "appoint_investigator",
        {"investigator_ref": INVESTIGATOR.id, "independence_declared": True, "declaration": "d"},
    ),
    ("serve_allegations", {"subject_refs": [CARER.ref], "method": "email"}),
    ("record_subject_response", {"subject_ref": CARER.ref, "response": "no"}),
    ("record_evidence", {"kind": "cctv", "description": "d"}),
    ("record_sufficient_evidence_rationale", {"rationale": "r"}),
    ("record_outcome", {"outcomes": [outcome()]}),
    ("submit_investigation_report", {"summary": "s", "recommendations": [recommendation()]}),
    (
        "complete_incident_review",
        {
            "what_happened": "w",
            "contributing_factors": "c",
            "recommendations": [recommendation("R2")],
        },
    ),
    (
        "communicate_outcome",
        {"recipient": "client", "recipient_ref": CLIENT.ref, "in_writing": True},
    ),
    (
        "communicate_outcome",
        {"recipient": "subject_of_allegation", "recipient_ref": CARER.ref, "in_writing": True},
    ),
    (
        "request_outcome_review",
        {"requester": "client", "requester_ref": CLIENT.ref, "grounds": ["procedural_fairness"]},
    ),
    ("decide_outcome_review", {"result": "confirmed", "reason": "r", "actor": REVIEWER}),
    ("record_response_plan", {"plan": "p"}),
    ("record_carer_support_plan", {"carer_ref": CARER.ref, "plan": "p"}),
    ("action_recommendation", {"recommendation_id": "R1", "action": "a"}),
    ("reclassify", {"regulator_category": "critical", "reason": "r"}),
    ("close", {"reason": "r"}),
    (
        "close",
        {"reason": "r", "not_required": {"response_plan": "n/a", "carer_support_plan": "n/a"}},
    ),
    ("reopen", {"reason": "r"}),
    ("withdraw", {"reason": "r"}),
    # Appended, so the indices PATH names stay as they were.
    ("appoint_outcome_reviewer", {"reviewer": REVIEWER_PRINCIPAL}),
    ("change_responsible_organisation", {"other_provider": "Eastside Housing", "reason": "r"}),
    ("record_investigation_plan", {"plan": "p"}),
]


# A path that can reach closure; the strategy interleaves its steps with random moves so that
# generated histories do get as far as closing (and reopening) instead of stalling at refusals.
PATH: list[tuple[str, dict[str, Any]]] = [
    MOVES[0],
    MOVES[3],
    MOVES[5],
    MOVES[6],
    MOVES[7],
    ("record_outcome", {"outcomes": [outcome()], "actor": INVESTIGATOR}),
    MOVES[-1],
    MOVES[11],
    MOVES[13],
    MOVES[14],
    MOVES[17],
    MOVES[18],
    MOVES[19],
    MOVES[21],
]


def state(incident: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(incident).items() if not k.startswith("_")}


@settings(max_examples=150, deadline=None)
@given(
    major=st.booleans(),
    moves=st.lists(
        st.tuples(st.one_of(st.none(), st.sampled_from(range(len(MOVES)))), st.integers(0, 72)),
        max_size=40,
    ),
)
def test_any_accepted_sequence_replays_to_the_same_state_and_never_closes_early(
    major: bool, moves: list[tuple[int | None, int]]
) -> None:
    story = major_abuse_by_carer() if major else reported(subjects_of_allegation=[CARER])
    step = 0
    for index, hours in moves:
        on_path = index is None
        command, args = PATH[min(step, len(PATH) - 1)] if on_path else MOVES[index]
        story.later(hours=hours)
        try:
            story.do(command, **args)
        except PolicyViolation:
            continue
        step += on_path
        if command == "close":
            unmet = [o for o in story.obligations() if not o.settled]
            assert not unmet, f"closed with unmet obligations {unmet}"

    replayed = fold(story.events)

    assert replayed is not None
    assert state(replayed) == state(story.incident)
    assert [e.originator_version for e in story.events] == list(range(1, len(story.events) + 1))
    assert all(b.prev_hash == a.hash for a, b in zip(story.events, story.events[1:], strict=False))
