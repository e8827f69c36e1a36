"""Policy fidelity, round 3 (issue 20): dates as well as order, withdrawals that cannot make a
report vanish, and the readings decided in docs/policy.md."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain.errors import PolicyViolation
from domain.procedural_fairness import Verdict, procedural_fairness
from domain.rules import fairness
from domain.rules.response import DuplicateTarget
from domain.values import (
    CareContext,
    Client,
    Impact,
    Program,
    SubjectOfAllegation,
    SubjectRole,
)
from tests.factories import (
    ABORIGINAL_CLIENT,
    CARER,
    CLIENT,
    INVESTIGATOR,
    MANAGER,
    OFFICER,
    START,
    Story,
    T,
    outcome,
    recommendation,
    reported,
    responded,
    under_investigation,
)


def refused(story: Story, command: str, **args: Any) -> str:
    before = len(story.events)
    with pytest.raises(PolicyViolation) as refusal:
        story.do(command, **args)
    assert len(story.events) == before and not story.incident.collect_events()
    return refusal.value.rule_id


def checklist(story: Story) -> dict[str, Any]:
    return {c.check: c for c in procedural_fairness(story.events, now=story.now)}


# ---- 1. when the steps took effect, as well as the order they were recorded in ----------------


def _served_later() -> Story:
    """Under investigation, and the allegations served a week after the report."""
    story = under_investigation().later(days=7)
    return story.do("serve_allegations", subject_refs=[CARER.ref], method="email")


def test_a_response_dated_before_the_allegations_were_served_is_refused() -> None:
    story = _served_later().later(days=1)
    served_at = story.events[-1].happened_at

    assert (
        refused(
            story,
            "record_subject_response",
            subject_ref=CARER.ref,
            response="Denied.",
            effective_at=served_at - timedelta(days=8),
        )
        == "fairness.response-before-service"
    )
    story.do(
        "record_subject_response",
        subject_ref=CARER.ref,
        response="Denied.",
        effective_at=served_at + timedelta(hours=2),
    )
    assert story.incident.responded == {CARER.ref}


def test_an_outcome_dated_before_the_allegations_were_served_is_refused() -> None:
    story = _served_later().later(days=10)
    served_at = story.events[-1].happened_at

    assert (
        refused(
            story,
            "record_outcome",
            outcomes=[outcome()],
            effective_at=served_at - timedelta(days=7),
        )
        == "fairness.allegations-not-served"
    )
    story.do("record_outcome", outcomes=[outcome()])
    assert story.incident.outcomes


def test_the_checklist_fails_an_outcome_dated_before_service_recorded_before_the_rule(
    monkeypatch: Any,
) -> None:
    story = _served_later().later(days=10)
    served_at = story.events[-1].happened_at
    monkeypatch.setattr(fairness, "require_allegations_served", lambda *a, **k: None)
    monkeypatch.setattr(fairness, "require_reasonable_time_to_respond", lambda *a, **k: None)
    story.do("record_outcome", outcomes=[outcome()], effective_at=served_at - timedelta(days=7))

    check = checklist(story)["allegations_served_in_writing_before_outcome"]

    assert check.verdict is Verdict.FAIL and "not served before the outcome" in check.detail


def test_the_checklist_fails_a_response_dated_before_service(monkeypatch: Any) -> None:
    story = _served_later().later(days=1)
    served_at = story.events[-1].happened_at
    monkeypatch.setattr(fairness, "require_served_before_response", lambda *a, **k: None)
    story.do(
        "record_subject_response",
        subject_ref=CARER.ref,
        response="Denied.",
        effective_at=served_at - timedelta(days=1),
    )
    story.later(days=10).do("record_outcome", outcomes=[outcome()])

    check = checklist(story)["response_recorded_or_chance_given"]

    assert check.verdict is Verdict.FAIL and "before service" in check.detail


def test_a_response_dated_after_the_outcome_is_no_response_before_it() -> None:
    story = _served_later().later(days=2)
    outcome_at = story.now
    story.later(days=1).do(
        "record_subject_response",
        subject_ref=CARER.ref,
        response="Denied.",
        effective_at=story.now,
    )

    assert (
        refused(story, "record_outcome", outcomes=[outcome()], effective_at=outcome_at)
        == "fairness.response-time-not-given"
    )
    story.do("record_outcome", outcomes=[outcome()])


def test_the_checklist_wants_the_client_voice_recorded_before_the_outcome_too() -> None:
    story = responded().later(days=1).do("record_outcome", outcomes=[outcome()])
    outcome_at = story.events[-1].happened_at
    story.later(days=1).do(
        "record_client_voice",
        client_ref=CLIENT.ref,
        said="It hurt.",
        effective_at=outcome_at - timedelta(hours=1),
    )

    assert checklist(story)["client_voice_before_outcome"].verdict is Verdict.WARN


# Each step a command records, and one it depends on: the step may not take effect before it.


def test_an_investigator_appointment_dated_before_the_police_report_is_refused() -> None:
    story = (
        reported(types=[T.PHYSICAL_ABUSE], impact=Impact.MAJOR, subjects_of_allegation=[CARER])
        .later(days=2)
        .do("record_notification", kind="police", recipient="VP")
        .do("determine_follow_up", kind="investigation", reason="abuse", effective_at=START)
    )
    appoint = {
        "investigator_ref": INVESTIGATOR.id,
        "independence_declared": True,
        "declaration": "independent",
    }

    assert (
        refused(story, "appoint_investigator", effective_at=START + timedelta(days=1), **appoint)
        == "follow-up.police-contact-before-investigation"
    )
    story.do("appoint_investigator", **appoint)


def test_integrity_advice_dated_after_child_protection_chose_rcs_in_lieu_is_refused() -> None:
    kin = SubjectOfAllegation(ref="kin-1", role=SubjectRole.KINSHIP_CARER)
    story = (
        reported(
            program=Program.CHILD_PROTECTION,
            care_context=CareContext.CP_KINSHIP,
            types=[T.NEGLECT],
            impact=Impact.MAJOR,
            subjects_of_allegation=[kin],
        )
        .later(days=2)
        .do("record_notification", kind="integrity_team", recipient="IT")
    )

    assert (
        refused(
            story,
            "determine_follow_up",
            kind="rcs_in_lieu",
            reason="advice",
            effective_at=START + timedelta(days=1),
        )
        == "rcs.integrity-advice-required"
    )
    story.do("determine_follow_up", kind="rcs_in_lieu", reason="advice")


SEQUENCES: list[tuple[str, Any, str, dict[str, Any]]] = [
    # (step, how the story gets to it, command, its arguments)
    (
        "investigation plan before the appointment",
        lambda: under_investigation(),
        "record_investigation_plan",
        {"plan": "interview"},
    ),
    (
        "sufficient-evidence rationale before the evidence",
        lambda: under_investigation().do(
            "record_evidence", kind="cctv", description="footage", actor=INVESTIGATOR
        ),
        "record_sufficient_evidence_rationale",
        {"rationale": "the footage shows it all"},
    ),
    (
        "report before the outcome",
        lambda: (
            responded()
            .do("record_investigation_plan", plan="p")
            .later(days=1)
            .do("record_outcome", outcomes=[outcome()])
        ),
        "submit_investigation_report",
        {"summary": "s", "recommendations": [recommendation()]},
    ),
    (
        "outcome communicated before the outcome",
        lambda: responded().later(days=1).do("record_outcome", outcomes=[outcome()]),
        "communicate_outcome",
        {"recipient": "client", "recipient_ref": CLIENT.ref, "in_writing": True},
    ),
    (
        "outcome review requested before the outcome",
        lambda: responded().later(days=1).do("record_outcome", outcomes=[outcome()]),
        "request_outcome_review",
        {"requester": "client", "requester_ref": CLIENT.ref, "grounds": ["procedural_fairness"]},
    ),
    (
        "reopened before the closure",
        lambda: reported().do("record_response_plan", plan="p").do("close", reason="done"),
        "reopen",
        {"reason": "new information"},
    ),
    (
        "closed before a step that met an obligation",
        lambda: reported().do("record_response_plan", plan="p"),
        "close",
        {"reason": "done"},
    ),
    (
        "withdrawn before the out-of-scope assessment",
        lambda: reported().do(
            "assess_scope", in_scope=False, exclusion="parental_care", reason="parent"
        ),
        "withdraw",
        {"reason": "out of scope"},
    ),
    (
        "recommendation actioned before it was made",
        lambda: (
            responded()
            .later(days=1)
            .do("record_outcome", outcomes=[outcome()])
            .do("record_investigation_plan", plan="p")
            .do("submit_investigation_report", summary="s", recommendations=[recommendation()])
        ),
        "action_recommendation",
        {"recommendation_id": "R1", "action": "training booked"},
    ),
    (
        "incident review completed before the follow-up was determined",
        lambda: reported(types=[T.SELF_HARM], impact=Impact.MAJOR).do(
            "determine_follow_up", kind="incident_review", reason="self-harm"
        ),
        "complete_incident_review",
        {
            "what_happened": "w",
            "contributing_factors": "c",
            "recommendations": [recommendation()],
        },
    ),
]


@pytest.mark.parametrize(
    ("story_of", "command", "args"),
    [s[1:] for s in SEQUENCES],
    ids=[s[0] for s in SEQUENCES],
)
def test_a_step_dated_before_the_step_it_depends_on_is_refused(
    story_of: Any, command: str, args: dict[str, Any]
) -> None:
    story = story_of()
    prerequisite_at = story.events[-1].happened_at
    story.later(days=1)

    assert (
        refused(story, command, effective_at=prerequisite_at - timedelta(minutes=1), **args)
        == "sequence.before-prerequisite"
    )
    story.do(command, effective_at=prerequisite_at, **args)


# ---- 2. a withdrawal cannot make a report vanish -----------------------------------------------


def live(*clients: Client, withdrawn: bool = False, organisation: str = "Northside CSO") -> Any:
    return DuplicateTarget(
        withdrawn=withdrawn, reporting_organisation=organisation, clients=tuple(clients)
    )


def test_a_duplicate_points_at_a_live_report() -> None:
    story = reported()

    assert (
        refused(
            story,
            "withdraw",
            reason="dup",
            duplicate_of=uuid4(),
            duplicate=live(CLIENT, withdrawn=True),
        )
        == "withdrawal.duplicate-withdrawn"
    )
    story.do("withdraw", reason="dup", duplicate_of=uuid4(), duplicate=live(CLIENT))


def test_a_duplicate_is_about_the_same_clients() -> None:
    story = reported()
    other_child = Client(ref="client-9", aboriginal=False)

    assert (
        refused(story, "withdraw", reason="dup", duplicate_of=uuid4(), duplicate=live(other_child))
        == "withdrawal.duplicate-other-client"
    )
    # The same reference at another provider is another child.
    assert (
        refused(
            story,
            "withdraw",
            reason="dup",
            duplicate_of=uuid4(),
            duplicate=live(CLIENT, organisation="Eastside CSO"),
        )
        == "withdrawal.duplicate-other-client"
    )
    story.do("withdraw", reason="dup", duplicate_of=uuid4(), duplicate=live(other_child, CLIENT))


def test_the_department_client_id_finds_the_same_child_at_another_provider() -> None:
    child = Client(ref="NS-1", aboriginal=False, department_client_id="1234567")
    story = reported(clients=[child])
    elsewhere = Client(ref="ES-77", aboriginal=False, department_client_id="1234567")

    story.do(
        "withdraw",
        reason="reported by both",
        duplicate_of=uuid4(),
        duplicate=live(elsewhere, organisation="Eastside CSO"),
    )

    assert story.incident.withdrawn


def test_a_report_major_at_any_point_is_withdrawn_only_by_a_department_officer() -> None:
    story = (
        reported(types=[T.SELF_HARM], impact=Impact.MAJOR)
        .do("reclassify", impact="non_major", reason="no lasting harm")
        .do("assess_scope", in_scope=False, exclusion="illness", reason="illness")
    )

    assert (
        refused(story, "withdraw", reason="out of scope", actor=MANAGER)
        == "withdrawal.major-needs-department-approval"
    )
    story.do("withdraw", reason="out of scope", actor=OFFICER)
    assert story.incident.withdrawn


def test_a_report_never_major_is_withdrawn_by_its_incident_manager() -> None:
    story = reported().do("assess_scope", in_scope=False, exclusion="illness", reason="illness")

    story.do("withdraw", reason="out of scope", actor=MANAGER)

    assert story.incident.withdrawn


# ---- 5. readings ----------------------------------------------------------------------------


def staff_abuse_at_a_cso() -> Story:
    staff = SubjectOfAllegation(ref="staff-9", role=SubjectRole.STAFF)
    return reported(types=[T.PHYSICAL_ABUSE], impact=Impact.MAJOR, subjects_of_allegation=[staff])


def test_a_cso_may_choose_an_rcs_investigation_in_lieu_without_integrity_team_advice() -> None:
    story = staff_abuse_at_a_cso()

    story.do("determine_follow_up", kind="rcs_in_lieu", reason="reportable conduct")

    assert story.incident.follow_up == "rcs_in_lieu"


def test_child_protection_chooses_rcs_in_lieu_only_on_integrity_team_advice() -> None:
    kin = SubjectOfAllegation(ref="kin-1", role=SubjectRole.KINSHIP_CARER)
    story = reported(
        program=Program.CHILD_PROTECTION,
        care_context=CareContext.CP_KINSHIP,
        types=[T.NEGLECT],
        impact=Impact.MAJOR,
        subjects_of_allegation=[kin],
    )

    assert (
        refused(story, "determine_follow_up", kind="rcs_in_lieu", reason="r")
        == "rcs.integrity-advice-required"
    )


def test_the_fairness_checklist_covers_an_incident_review() -> None:
    story = (
        reported(types=[T.SELF_HARM], impact=Impact.MAJOR)
        .do("record_client_voice", client_ref=CLIENT.ref, said="I was scared.")
        .do("determine_follow_up", kind="incident_review", reason="self-harm")
        .later(days=5)
        .do(
            "complete_incident_review",
            what_happened="w",
            contributing_factors="c",
            recommendations=[recommendation()],
        )
    )

    checks = checklist(story)

    assert checks["completed_within_28_days"].verdict is Verdict.PASS
    assert checks["client_voice_before_outcome"].verdict is Verdict.PASS
    assert checks["allegations_served_in_writing_before_outcome"].verdict is (
        Verdict.NOT_APPLICABLE
    )
    assert checks["outcome_communicated_to_client_and_subject"].verdict is Verdict.PENDING


def test_a_report_cannot_name_its_own_organisation_as_the_other_provider() -> None:
    with pytest.raises(PolicyViolation) as refusal:
        reported(other_provider="Northside CSO")
    assert refusal.value.rule_id == "access.responsible-organisation-is-reporter"
    assert refusal.value.field == "details.other_provider"

    assert reported(other_provider="Eastside CSO").incident.details.other_provider == (
        "Eastside CSO"
    )


def test_a_consultation_at_the_report_stage_meets_the_follow_up_consultation() -> None:
    story = reported(clients=[ABORIGINAL_CLIENT], types=[T.SELF_HARM], impact=Impact.MAJOR)
    assert story.obligation("aboriginal_consultation_follow_up").status == "open"

    story.do(
        "record_aboriginal_consultation", body="acsass", stage="report", consulted="ACSASS duty"
    )

    assert story.obligation("aboriginal_consultation_follow_up").status == "met"


def test_a_report_stage_consultation_after_the_follow_up_decision_meets_nothing() -> None:
    story = (
        reported(clients=[ABORIGINAL_CLIENT], types=[T.SELF_HARM], impact=Impact.MAJOR)
        .do("determine_follow_up", kind="incident_review", reason="self-harm")
        .later(days=1)
        .do(
            "record_aboriginal_consultation",
            body="acsass",
            stage="report",
            consulted="ACSASS duty",
        )
    )

    assert story.obligation("aboriginal_consultation_follow_up").status != "met"
