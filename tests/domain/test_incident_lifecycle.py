"""One scenario per lifecycle path of the policy, each from report to close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import PolicyViolation
from domain.incident import Stage
from domain.obligations import Status
from domain.values import (
    CareContext,
    Client,
    Details,
    Finding,
    Impact,
    OccurredBetween,
    Program,
    RegulatorCategory,
    SubjectOfAllegation,
    SubjectRole,
)
from tests.factories import (
    ABORIGINAL_CLIENT,
    CARER,
    CLIENT,
    INVESTIGATOR,
    OFFICER,
    REVIEWER,
    REVIEWER_PRINCIPAL,
    STAFF,
    T,
    allegations_served,
    outcome,
    recommendation,
    reported,
    under_investigation,
)


def statuses(story) -> dict[str, Status]:  # type: ignore[no-untyped-def]
    return {o.kind: o.status for o in story.obligations()}


def test_non_major_injury_is_closed_once_a_response_plan_is_recorded() -> None:
    story = reported()

    story.later(days=1).do("record_response_plan", plan="Review trampoline supervision rules.")
    story.do("close", reason="Local response complete.")

    assert story.incident.stage is Stage.CLOSED
    assert statuses(story) == {"incident_report": Status.MET, "response_plan": Status.MET}


def test_major_physical_abuse_by_a_carer_runs_investigation_review_and_variation_to_close() -> None:
    story = allegations_served()
    assert story.incident.stage is Stage.UNDER_INVESTIGATION

    story.later(days=3).do(
        "record_subject_response", subject_ref=CARER.ref, response="I deny it.", actor=INVESTIGATOR
    )
    story.do(
        "record_evidence", kind="interview", description="Client interview", actor=INVESTIGATOR
    )
    story.later(days=10).do("record_outcome", outcomes=[outcome()], actor=INVESTIGATOR)
    story.do(
        "submit_investigation_report",
        summary="Allegation substantiated.",
        recommendations=[recommendation()],
        actor=INVESTIGATOR,
    )
    story.do("communicate_outcome", recipient="client", recipient_ref=CLIENT.ref, in_writing=True)
    story.do(
        "communicate_outcome",
        recipient="subject_of_allegation",
        recipient_ref=CARER.ref,
        in_writing=True,
    )
    story.later(days=2).do(
        "request_outcome_review",
        requester="subject_of_allegation",
        requester_ref=CARER.ref,
        grounds=["procedural_fairness"],
    )
    assert story.incident.stage is Stage.OUTCOME_REVIEW
    story.do("appoint_outcome_reviewer", reviewer=REVIEWER_PRINCIPAL)

    story.later(days=5).do(
        "decide_outcome_review",
        result="varied",
        reason="Witness account was not put to carer.",
        varied_outcomes=[outcome(finding=Finding.UNABLE_TO_BE_DETERMINED)],
        actor=REVIEWER,
    )
    story.do("record_response_plan", plan="Placement support increased.")
    story.do("record_carer_support_plan", carer_ref=CARER.ref, plan="Fortnightly supervision.")
    story.do("action_recommendation", recommendation_id="R1", action="Training booked.")
    story.do("close", reason="All steps complete.")

    assert story.incident.stage is Stage.CLOSED
    assert story.incident.outcomes[0].finding is Finding.UNABLE_TO_BE_DETERMINED
    assert statuses(story)["investigation_or_review"] is Status.MET
    assert statuses(story)["outcome_review_decided"] is Status.MET


def test_rcs_investigation_in_lieu_needs_integrity_advice_ccyp_notice_and_recommendations() -> None:
    kinship = SubjectOfAllegation(ref="kin-1", role=SubjectRole.KINSHIP_CARER)
    story = reported(
        program=Program.CHILD_PROTECTION,
        care_context=CareContext.CP_KINSHIP,
        types=[T.SEXUAL_ABUSE],
        impact=Impact.MAJOR,
        subjects_of_allegation=[kinship],
    )
    with pytest.raises(PolicyViolation) as refused:
        story.do("determine_follow_up", kind="rcs_in_lieu", reason="Integrity team advice")
    assert refused.value.rule_id == "rcs.integrity-advice-required"

    story.do("record_notification", kind="integrity_team", recipient="DFFH Integrity team")
    story.do("record_notification", kind="police", recipient="SOCIT")
    story.do("determine_follow_up", kind="rcs_in_lieu", reason="Integrity team: RCS applies")
    story.do("record_notification", kind="ccyp", recipient="CCYP")
    story.do(
        "appoint_investigator",
        investigator_ref=INVESTIGATOR.id,
        independence_declared=True,
        declaration="Independent of the placement.",
    )
    story.do("serve_allegations", subject_refs=["kin-1"], actor=INVESTIGATOR)
    story.do(
        "record_outcome",
        outcomes=[outcome("kin-1", incident_type=T.SEXUAL_ABUSE)],
        actor=INVESTIGATOR,
    )
    with pytest.raises(PolicyViolation) as no_recommendations:
        story.do(
            "submit_investigation_report",
            summary="RCS report",
            recommendations=[],
            actor=INVESTIGATOR,
        )
    assert no_recommendations.value.rule_id == "rcs.recommendations-section-required"

    story.do(
        "submit_investigation_report",
        summary="RCS report endorsed by CCYP",
        recommendations=[recommendation()],
        actor=INVESTIGATOR,
    )
    story.do(
        "communicate_outcome", recipient="guardian", recipient_ref="guardian-1", in_writing=True
    )
    story.do(
        "communicate_outcome",
        recipient="subject_of_allegation",
        recipient_ref="kin-1",
        in_writing=True,
    )
    story.do("record_notification", kind="ccyp_details", recipient="CCYP")
    story.do("record_response_plan", plan="Placement changed.")
    story.do(
        "close",
        reason="RCS findings lodged.",
        not_required={
            "carer_support_plan": "Kinship placement ended; no ongoing carer role.",
            "recommendations_actioned": "Tracked in the RCS action plan.",
        },
    )

    found = statuses(story)
    assert found["ccyp_notice"] is Status.MET and found["ccyp_details"] is Status.MET
    assert found["carer_support_plan"] is Status.NOT_REQUIRED
    assert story.incident.stage is Stage.CLOSED


def test_sufficient_evidence_path_allows_an_outcome_before_service_but_not_its_communication() -> (
    None
):
    story = under_investigation(
        reported(types=[T.PHYSICAL_ABUSE], impact=Impact.MAJOR, subjects_of_allegation=[STAFF])
    )
    story.do(
        "record_evidence", kind="cctv", description="CCTV of the common room", actor=INVESTIGATOR
    )
    story.do(
        "record_sufficient_evidence_rationale",
        rationale="CCTV shows the whole incident; no further enquiry needed.",
        actor=INVESTIGATOR,
    )

    story.do("record_outcome", outcomes=[outcome(STAFF.ref)], actor=INVESTIGATOR)
    with pytest.raises(PolicyViolation) as refused:
        story.do(
            "communicate_outcome", recipient="client", recipient_ref=CLIENT.ref, in_writing=True
        )

    assert refused.value.rule_id == "fairness.subject-not-told-in-writing"
    story.do("serve_allegations", subject_refs=[STAFF.ref], actor=INVESTIGATOR)
    story.do("communicate_outcome", recipient="client", recipient_ref=CLIENT.ref, in_writing=True)
    assert story.incident.stage is Stage.RESPONSE


def test_critical_notifiable_death_owes_the_regulator_a_short_form_by_next_business_day() -> None:
    aware = datetime(2025, 4, 17, 8, 0, tzinfo=UTC)  # Thursday 18:00 before Good Friday
    story = reported(
        types=[T.DEATH],
        impact=Impact.MAJOR,
        regulator_category=RegulatorCategory.CRITICAL,
        occurred_at=aware - timedelta(hours=1),
        became_aware_at=aware,
        now=aware + timedelta(hours=1),
    )

    short_form = story.obligation("regulator_short_form")
    # Good Friday, Easter Saturday, Sunday and Monday are not business days: Tuesday 22 April.
    assert short_form.due == datetime(2025, 4, 22, 7, 0, tzinfo=UTC)
    assert short_form.status is Status.OPEN
    assert (
        story.obligation("regulator_short_form", now=short_form.due + timedelta(minutes=1)).status
        is Status.OVERDUE
    )

    story.later(days=1).do(
        "record_notification", kind="regulator_short_form", recipient="Social Services Regulator"
    )
    story.do("determine_follow_up", kind="incident_review", reason="Unexpected death")
    story.later(days=20).do(
        "complete_incident_review",
        what_happened="...",
        contributing_factors="Overnight checks were missed.",
        recommendations=[recommendation()],
    )
    story.do("communicate_outcome", recipient="guardian", recipient_ref="family", in_writing=True)
    story.do("record_response_plan", plan="Overnight check procedure revised.")
    story.do("action_recommendation", recommendation_id="R1", action="Procedure reissued.")
    story.do("close", reason="Review complete.")

    assert statuses(story)["regulator_short_form"] is Status.MET
    assert statuses(story)["investigation_or_review"] is Status.MET


def test_historical_disclosure_counts_its_deadline_from_the_disclosure() -> None:
    disclosed = datetime(2025, 3, 3, 23, 0, tzinfo=UTC)  # Tuesday 10:00 Melbourne
    story = reported(
        details=Details(
            occurred_between=OccurredBetween(
                start=datetime(2012, 1, 1, tzinfo=UTC), end=datetime(2013, 12, 31, tzinfo=UTC)
            ),
            became_aware_at=disclosed,
            location="Former foster placement",
            description="Client disclosed past harm.",
            historical=True,
        ),
    )

    assert story.incident.details.historical
    assert story.obligation("incident_report").due == datetime(2025, 3, 7, 6, 0, tzinfo=UTC)


def test_common_client_report_names_the_provider_where_the_harm_happened() -> None:
    story = reported(other_provider="Eastside Housing")

    assert story.incident.details.other_provider == "Eastside Housing"
    assert story.incident.reporting_organisation == "Northside CSO"


def test_aboriginal_client_cannot_be_closed_until_acsass_was_consulted() -> None:
    story = reported(clients=[ABORIGINAL_CLIENT, CLIENT])
    story.do("record_response_plan", plan="Cultural support plan updated.")

    with pytest.raises(PolicyViolation) as refused:
        story.do("close", reason="done")
    assert refused.value.rule_id == "closure.obligations-outstanding"

    story.do(
        "record_aboriginal_consultation",
        body="acsass",
        stage="response planning",
        consulted="ACSASS practitioner",
        advice="Involve extended family.",
    )
    story.do("close", reason="done")
    assert story.incident.stage is Stage.CLOSED


def test_closed_incident_is_reopened_with_a_reason_and_met_obligations_stay_met() -> None:
    story = reported()
    story.do("record_response_plan", plan="Plan").do("close", reason="done")

    story.do("reopen", reason="New information from the client.", actor=OFFICER)

    assert story.incident.stage is not Stage.CLOSED
    assert statuses(story)["response_plan"] is Status.MET


def test_correction_is_a_new_event_and_the_original_stays_in_history() -> None:
    story = reported()
    from domain.values import DetailsChange

    story.do(
        "correct",
        corrected_version=1,
        changes=DetailsChange(location="Day program room"),
        reason="Location was entered wrongly.",
    )

    assert story.incident.details.location == "Day program room"
    assert story.events[0].details.location == "Residential unit, Northside"
    assert story.incident.corrections == (1,)


def test_reclassification_to_major_opens_the_follow_up_obligation() -> None:
    story = reported()

    story.do("reclassify", impact="major", reason="Fracture confirmed")

    assert "investigation_or_review" in statuses(story)
    with pytest.raises(PolicyViolation) as refused:
        story.do("determine_follow_up", kind="local_response", reason="minor")
    assert refused.value.rule_id == "follow-up.major-needs-investigation-or-review"


def test_client_with_unknown_aboriginal_status_is_refused_at_the_boundary() -> None:
    with pytest.raises(ValueError):
        Client(ref="x", aboriginal=None)  # type: ignore[arg-type]
