"""Every rule of the policy refuses a command that would break it, naming the rule."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.errors import PolicyViolation
from domain.rules.classification import map_legacy_type
from domain.values import (
    CareContext,
    DetailsChange,
    Impact,
    Program,
    SubjectOfAllegation,
    SubjectRole,
)
from tests.factories import (
    CARER,
    CLIENT,
    INVESTIGATOR,
    MANAGER,
    OFFICER,
    REPORTER,
    REVIEWER_PRINCIPAL,
    START,
    Story,
    T,
    allegations_served,
    major_abuse_by_carer,
    outcome,
    recommendation,
    report_fields,
    reported,
    responded,
    under_investigation,
)

ROOT = Path(__file__).resolve().parents[2]


def with_outcome() -> Story:
    return (
        under_investigation()
        .do("record_investigation_plan", plan="Interview the client and carer.")
        .do("serve_allegations", subject_refs=[CARER.ref], method="email")
        .do("record_subject_response", subject_ref=CARER.ref, response="Denied.")
        .do("record_outcome", outcomes=[outcome()], actor=INVESTIGATOR)
    )


def review_requested() -> Story:
    return with_outcome().do(
        "request_outcome_review",
        requester="client",
        requester_ref=CLIENT.ref,
        grounds=["procedural_fairness"],
    )


def review_pending() -> Story:
    return review_requested().do("appoint_outcome_reviewer", reviewer=REVIEWER_PRINCIPAL)


def investigation_determined() -> Story:
    return (
        major_abuse_by_carer()
        .do("record_notification", kind="police", recipient="VP")
        .do("determine_follow_up", kind="investigation", reason="x")
    )


def cp_kinship_neglect() -> Story:
    kin = SubjectOfAllegation(ref="kin-1", role=SubjectRole.KINSHIP_CARER)
    return reported(
        program=Program.CHILD_PROTECTION,
        care_context=CareContext.CP_KINSHIP,
        types=[T.NEGLECT],
        impact=Impact.MAJOR,
        subjects_of_allegation=[kin],
    )


def closed() -> Story:
    return reported().do("record_response_plan", plan="p").do("close", reason="done")


Step = tuple[Callable[[], Story], str, dict[str, Any]]
AT_REPORT: dict[str, dict[str, Any]] = {
    "scope.parental-care": {"care_context": CareContext.PARENT},
    "responsibility.child-protection-reports": {"care_context": CareContext.CP_KINSHIP},
    "responsibility.cso-reports": {"program": Program.CHILD_PROTECTION},
    "report.client-required": {"clients": []},
    "classification.type-required": {"types": []},
    "classification.type-repeated": {"types": [T.NEGLECT, T.NEGLECT]},
    "classification.mandatory-major": {"types": [T.NEGLECT], "subjects_of_allegation": [CARER]},
    "report.occurrence-required": {"occurred_at": None},
    "report.period-reversed": {},
    "report.aware-before-occurred": {"occurred_at": START},
}

STEPS: dict[str, Step] = {
    "amend.no-change": (reported, "amend", {"changes": DetailsChange(), "reason": "x"}),
    "record.reason-required": (reported, "withdraw", {"reason": "  "}),
    "classification.no-change": (reported, "reclassify", {"impact": "non_major", "reason": "x"}),
    "classification.no-downgrade-below-mandatory-major": (
        major_abuse_by_carer,
        "reclassify",
        {"impact": "non_major", "reason": "x"},
    ),
    "scope.exclusion-required": (reported, "assess_scope", {"in_scope": False, "reason": "x"}),
    "scope.exclusion-contradicts": (
        reported,
        "assess_scope",
        {"in_scope": True, "exclusion": "illness", "reason": "x"},
    ),
    "lifecycle.withdrawn": (
        lambda: (
            reported()
            .do("assess_scope", in_scope=False, exclusion="illness", reason="illness")
            .do("withdraw", reason="out of scope")
        ),
        "record_response_plan",
        {"plan": "p"},
    ),
    "lifecycle.closed": (closed, "record_response_plan", {"plan": "p"}),
    "lifecycle.not-closed": (reported, "reopen", {"reason": "x"}),
    "lifecycle.withdraw-after-outcome": (with_outcome, "withdraw", {"reason": "x"}),
    "client-voice.said-required": (
        reported,
        "record_client_voice",
        {"client_ref": CLIENT.ref, "said": ""},
    ),
    "client-voice.unknown-client": (
        reported,
        "record_client_voice",
        {"client_ref": "nobody", "said": "x"},
    ),
    "outcome.unknown-recipient": (
        with_outcome,
        "communicate_outcome",
        {"recipient": "client", "recipient_ref": "nobody", "in_writing": True},
    ),
    "notification.recipient-required": (
        reported,
        "record_notification",
        {"kind": "police", "recipient": ""},
    ),
    "consultation.stage-required": (
        reported,
        "record_aboriginal_consultation",
        {"body": "acsass", "stage": "", "consulted": "x"},
    ),
    "consultation.consulted-required": (
        reported,
        "record_aboriginal_consultation",
        {"body": "acsass", "stage": "report", "consulted": ""},
    ),
    "department-review.request-needs-reason": (
        reported,
        "record_department_review",
        {"decision": "more_information_requested"},
    ),
    "follow-up.already-started": (
        under_investigation,
        "determine_follow_up",
        {"kind": "incident_review", "reason": "x"},
    ),
    "follow-up.major-needs-investigation-or-review": (
        major_abuse_by_carer,
        "determine_follow_up",
        {"kind": "local_response", "reason": "x"},
    ),
    "follow-up.investigation-mandatory": (
        cp_kinship_neglect,
        "determine_follow_up",
        {"kind": "incident_review", "reason": "x"},
    ),
    "rcs.integrity-advice-required": (
        cp_kinship_neglect,
        "determine_follow_up",
        {"kind": "rcs_in_lieu", "reason": "x"},
    ),
    "investigation.not-determined": (
        reported,
        "appoint_investigator",
        {"investigator_ref": "i", "independence_declared": True, "declaration": "x"},
    ),
    "fairness.independence-not-declared": (
        lambda: major_abuse_by_carer().do("determine_follow_up", kind="investigation", reason="x"),
        "appoint_investigator",
        {"investigator_ref": "i", "independence_declared": False, "declaration": "x"},
    ),
    "fairness.investigator-not-independent": (
        lambda: major_abuse_by_carer().do("determine_follow_up", kind="investigation", reason="x"),
        "appoint_investigator",
        {"investigator_ref": REPORTER.id, "independence_declared": True, "declaration": "x"},
    ),
    "follow-up.police-contact-before-investigation": (
        lambda: major_abuse_by_carer().do("determine_follow_up", kind="investigation", reason="x"),
        "appoint_investigator",
        {"investigator_ref": "i", "independence_declared": True, "declaration": "x"},
    ),
    "follow-up.integrity-advice-before-investigation": (
        lambda: (
            cp_kinship_neglect()
            .do("record_notification", kind="police", recipient="VP")
            .do("determine_follow_up", kind="investigation", reason="x")
        ),
        "appoint_investigator",
        {"investigator_ref": "i", "independence_declared": True, "declaration": "x"},
    ),
    "appointment.appointee-required": (
        investigation_determined,
        "appoint_investigator",
        {"independence_declared": True, "declaration": "x"},
    ),
    "appointment.self-appointment": (
        investigation_determined,
        "appoint_investigator",
        {"investigator_ref": MANAGER.id, "independence_declared": True, "declaration": "x"},
    ),
    "outcome-review.no-reviewer": (
        review_requested,
        "decide_outcome_review",
        {"result": "confirmed", "reason": "x"},
    ),
    "access.responsible-organisation-by-command": (
        reported,
        "amend",
        {"changes": DetailsChange(other_provider="Elsewhere CSO"), "reason": "x"},
    ),
    "access.responsible-organisation-unchanged": (
        reported,
        "change_responsible_organisation",
        {"other_provider": None, "reason": "x"},
    ),
    "access.responsible-organisation-is-reporter": (
        reported,
        "change_responsible_organisation",
        {"other_provider": REPORTER.organisation, "reason": "x"},
    ),
    "investigation.no-investigator": (
        lambda: major_abuse_by_carer().do("determine_follow_up", kind="investigation", reason="x"),
        "serve_allegations",
        {"subject_refs": [CARER.ref], "method": "email"},
    ),
    "investigation.plan-required": (under_investigation, "record_investigation_plan", {"plan": ""}),
    "fairness.unknown-subject": (
        under_investigation,
        "serve_allegations",
        {"subject_refs": ["nobody"], "method": "email"},
    ),
    "fairness.service-method-required": (
        under_investigation,
        "serve_allegations",
        {"subject_refs": [CARER.ref], "method": ""},
    ),
    "fairness.response-before-service": (
        under_investigation,
        "record_subject_response",
        {"subject_ref": CARER.ref, "response": "no"},
    ),
    "fairness.response-required": (
        allegations_served,
        "record_subject_response",
        {"subject_ref": CARER.ref, "response": ""},
    ),
    "evidence.description-required": (
        under_investigation,
        "record_evidence",
        {"kind": "cctv", "description": ""},
    ),
    "investigation.rationale-required": (
        under_investigation,
        "record_sufficient_evidence_rationale",
        {"rationale": ""},
    ),
    "investigation.sufficient-evidence-without-evidence": (
        under_investigation,
        "record_sufficient_evidence_rationale",
        {"rationale": "CCTV"},
    ),
    "fairness.allegations-not-served": (
        under_investigation,
        "record_outcome",
        {"outcomes": [outcome()]},
    ),
    "investigation.outcome-unknown-allegation": (
        responded,
        "record_outcome",
        {"outcomes": [outcome(incident_type=T.SEXUAL_ABUSE)]},
    ),
    "investigation.outcome-repeated": (
        responded,
        "record_outcome",
        {"outcomes": [outcome(), outcome()]},
    ),
    "investigation.outcome-missing": (responded, "record_outcome", {"outcomes": []}),
    "outcome.not-recorded": (
        allegations_served,
        "submit_investigation_report",
        {"summary": "s", "recommendations": [recommendation()]},
    ),
    "investigation.summary-required": (
        with_outcome,
        "submit_investigation_report",
        {"summary": "", "recommendations": [recommendation()]},
    ),
    "investigation.recommendations-required": (
        with_outcome,
        "submit_investigation_report",
        {"summary": "s", "recommendations": []},
    ),
    "rcs.recommendations-section-required": (
        lambda: (
            cp_kinship_neglect()
            .do("record_notification", kind="police", recipient="VP")
            .do("record_notification", kind="integrity_team", recipient="IT")
            .do("determine_follow_up", kind="rcs_in_lieu", reason="x")
            .do(
                "appoint_investigator",
                investigator_ref="i",
                independence_declared=True,
                declaration="x",
            )
            .do("serve_allegations", subject_refs=["kin-1"], method="letter_by_post")
            .do("record_subject_response", subject_ref="kin-1", response="Denied.")
            .do("record_outcome", outcomes=[outcome("kin-1", incident_type=T.NEGLECT)])
            .do(
                "endorse_rcs_investigation",
                endorsed_by="Integrity team",
                endorsed_on=START.date(),
                reference="IT-2025-001",
                actor=OFFICER,
            )
        ),
        "submit_investigation_report",
        {"summary": "s", "recommendations": []},
    ),
    "recommendation.id-repeated": (
        with_outcome,
        "submit_investigation_report",
        {"summary": "s", "recommendations": [recommendation(), recommendation()]},
    ),
    "review.not-determined": (
        reported,
        "complete_incident_review",
        {"what_happened": "x", "contributing_factors": "y", "recommendations": []},
    ),
    "review.sections-required": (
        lambda: reported().do("determine_follow_up", kind="incident_review", reason="x"),
        "complete_incident_review",
        {"what_happened": " ", "contributing_factors": "y", "recommendations": []},
    ),
    "fairness.subject-not-told-in-writing": (
        lambda: (
            under_investigation()
            .do("record_evidence", kind="cctv", description="CCTV")
            .do("record_sufficient_evidence_rationale", rationale="CCTV shows it all")
            .do("record_outcome", outcomes=[outcome()])
        ),
        "communicate_outcome",
        {"recipient": "client", "recipient_ref": CLIENT.ref, "in_writing": True},
    ),
    "outcome-review.requester-not-entitled": (
        with_outcome,
        "request_outcome_review",
        {"requester": "carer", "requester_ref": CARER.ref, "grounds": ["procedural_fairness"]},
    ),
    "outcome-review.grounds-not-recognised": (
        with_outcome,
        "request_outcome_review",
        {
            "requester": "client",
            "requester_ref": CLIENT.ref,
            "grounds": ["disagreement_with_finding"],
        },
    ),
    "outcome-review.requester-not-on-record": (
        with_outcome,
        "request_outcome_review",
        {
            "requester": "subject_of_allegation",
            "requester_ref": "stranger",
            "grounds": ["procedural_fairness"],
        },
    ),
    "outcome-review.already-pending": (
        review_pending,
        "request_outcome_review",
        {"requester": "client", "requester_ref": CLIENT.ref, "grounds": ["procedural_fairness"]},
    ),
    "outcome-review.none-pending": (
        with_outcome,
        "decide_outcome_review",
        {"result": "confirmed", "reason": "x"},
    ),
    "outcome-review.reviewer-not-independent": (
        review_pending,
        "decide_outcome_review",
        {"result": "confirmed", "reason": "x", "actor": INVESTIGATOR},
    ),
    "outcome-review.variation-required": (
        review_pending,
        "decide_outcome_review",
        {"result": "varied", "reason": "x"},
    ),
    "outcome-review.confirmed-with-variation": (
        review_pending,
        "decide_outcome_review",
        {"result": "confirmed", "reason": "x", "varied_outcomes": [outcome()]},
    ),
    "response.plan-required": (reported, "record_response_plan", {"plan": ""}),
    "response.carer-required": (
        reported,
        "record_carer_support_plan",
        {"carer_ref": "", "plan": "p"},
    ),
    "extension.approver-required": (
        reported,
        "extend",
        {
            "obligation_kind": "incident_report",
            "new_due": START + timedelta(days=9),
            "approved_by": "",
            "reason": "x",
        },
    ),
    "extension.unknown-obligation": (
        reported,
        "extend",
        {
            "obligation_kind": "nothing",
            "new_due": START + timedelta(days=9),
            "approved_by": "a",
            "reason": "x",
        },
    ),
    "extension.not-later": (
        reported,
        "extend",
        {
            "obligation_kind": "incident_report",
            "new_due": START - timedelta(days=9),
            "approved_by": "a",
            "reason": "x",
        },
    ),
    "recommendation.unknown": (
        reported,
        "action_recommendation",
        {"recommendation_id": "R9", "action": "x"},
    ),
    "recommendation.action-required": (
        lambda: with_outcome().do(
            "submit_investigation_report", summary="s", recommendations=[recommendation()]
        ),
        "action_recommendation",
        {"recommendation_id": "R1", "action": ""},
    ),
    "closure.obligations-outstanding": (reported, "close", {"reason": "done"}),
    "closure.obligation-not-waivable": (
        major_abuse_by_carer,
        "close",
        {"reason": "done", "not_required": {"investigation_or_review": "no time"}},
    ),
    "closure.reason-required": (
        reported,
        "close",
        {"reason": "done", "not_required": {"response_plan": ""}},
    ),
    "closure.unknown-obligation": (
        reported,
        "close",
        {"reason": "done", "not_required": {"nothing": "x"}},
    ),
    "correction.unknown-version": (
        reported,
        "correct",
        {"corrected_version": 9, "changes": DetailsChange(location="x"), "reason": "x"},
    ),
    "correction.no-change": (
        reported,
        "correct",
        {"corrected_version": 1, "changes": DetailsChange(), "reason": "x"},
    ),
}


@pytest.mark.parametrize("rule_id", sorted(AT_REPORT))
def test_report_is_refused_naming_the_rule(rule_id: str) -> None:
    overrides = dict(AT_REPORT[rule_id])
    if rule_id == "report.period-reversed":
        from domain.values import Details, OccurredBetween

        overrides["details"] = Details.model_construct(
            occurred_between=OccurredBetween.model_construct(start=START, end=START - timedelta(1)),
            occurred_at=None,
            became_aware_at=START,
            location="x",
            description="x",
            immediate_actions="",
            other_provider=None,
            historical=True,
        )
    with pytest.raises(PolicyViolation) as refused:
        reported(**overrides)

    assert refused.value.rule_id == rule_id


@pytest.mark.parametrize("rule_id", sorted(STEPS))
def test_command_is_refused_naming_the_rule_and_records_nothing(rule_id: str) -> None:
    build, command, args = STEPS[rule_id]
    story = build()
    before = len(story.events)

    with pytest.raises(PolicyViolation) as refused:
        story.do(command, **args)

    assert refused.value.rule_id == rule_id
    assert refused.value.message
    assert len(story.events) == before
    assert not story.incident.collect_events()


def test_report_with_both_a_moment_and_a_period_is_ambiguous() -> None:
    from domain.values import OccurredBetween

    fields = report_fields()
    details = fields["details"].model_copy(
        update={
            "occurred_between": OccurredBetween(
                start=START - timedelta(days=9), end=START - timedelta(days=8)
            )
        }
    )
    with pytest.raises(PolicyViolation) as refused:
        reported(details=details)
    assert refused.value.rule_id == "report.occurrence-ambiguous"


def test_legacy_types_map_renames_flag_splits_and_refuse_unknown_labels() -> None:
    assert map_legacy_type("Sexual exploitation").current is T.SEXUAL_EXPLOITATION_GROOMING
    assert map_legacy_type("Injury").unresolved
    assert map_legacy_type("Dangerous actions").no_longer_a_type
    assert map_legacy_type("Neglect").current is T.NEGLECT
    with pytest.raises(PolicyViolation) as refused:
        map_legacy_type("Bad weather")
    assert refused.value.rule_id == "classification.unknown-legacy-type"


def test_every_rule_id_the_domain_defines_is_exercised_by_a_test() -> None:
    # Where rules are raised; the catalogue only describes them (and rules raised elsewhere).
    rules = [p for p in ROOT.glob("domain/rules/*.py") if p.name != "catalogue.py"]
    sources = [*rules, ROOT / "domain/incident.py"]
    defined = {m for p in sources for m in re.findall(r'"([a-z-]+\.[a-z-]+)"', p.read_text())}
    test_files = [*ROOT.glob("tests/domain/*.py"), *ROOT.glob("tests/ledger/*.py")]
    tests = "".join(p.read_text() for p in test_files)
    untested = sorted(r for r in defined if f'"{r}"' not in tests)
    assert not untested, f"rule ids with no test: {untested}"


def test_a_finding_on_no_allegation_here_is_refused_at_that_findings_own_field() -> None:
    story = responded()

    with pytest.raises(PolicyViolation) as wrong_type:
        story.do("record_outcome", outcomes=[outcome(), outcome(incident_type=T.SEXUAL_ABUSE)])
    with pytest.raises(PolicyViolation) as wrong_subject:
        story.do("record_outcome", outcomes=[outcome(subject="stranger")])

    assert wrong_type.value.field == "outcomes.1.incident_type"
    assert wrong_subject.value.field == "outcomes.0.subject_ref"
