"""Policy fidelity, round 2 (issue 12): each reading refuses or asserts in the domain."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import orjson
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from domain import calendar, proclaimed_holidays
from domain.base import chain_hash
from domain.errors import PolicyViolation
from domain.incident import Incident
from domain.obligations import Status
from domain.policy_table import regime_at_submission
from domain.procedural_fairness import Verdict, procedural_fairness
from domain.rules import fairness
from domain.rules.response import DuplicateTarget
from domain.summary import summarise
from domain.values import (
    CareContext,
    Details,
    Guardian,
    GuardianRelationship,
    Impact,
    Program,
    SubjectOfAllegation,
    SubjectRole,
    WithdrawalCategory,
)
from ledger.application import fold
from ledger.persistence import OrjsonTranscoder, PydanticMapper
from tests.factories import (
    ABORIGINAL_CLIENT,
    CARER,
    CLIENT,
    INVESTIGATOR,
    MANAGER,
    OFFICER,
    STAFF,
    START,
    Story,
    T,
    allegations_served,
    major_abuse_by_carer,
    outcome,
    recommendation,
    reported,
    responded,
    under_investigation,
)

MAPPER = PydanticMapper(OrjsonTranscoder())


def refused(story: Story, command: str, **args: Any) -> str:
    before = len(story.events)
    with pytest.raises(PolicyViolation) as refusal:
        story.do(command, **args)
    assert len(story.events) == before and not story.incident.collect_events()
    return refusal.value.rule_id


def stored_as_version_one(event: Any, **old_fields: Any) -> Any:
    """The event as a release before its class version 2 stored it, read back by the mapper."""
    state = event.model_dump(mode="json")
    for key in ("legacy_method", "legacy_stage"):
        state.pop(key, None)
    state.update(old_fields)
    state["hash"] = chain_hash(get_topic(type(event)), state)
    stored = StoredEvent(
        originator_id=event.originator_id,
        originator_version=event.originator_version,
        topic=get_topic(type(event)),
        state=orjson.dumps(state),
    )
    return MAPPER.to_domain_event(stored), state["hash"]


# ---- 1. allegations in writing ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["verbal", "phone", "verbally, by phone"])
def test_a_verbal_or_phone_notice_is_not_service_in_writing(method: str) -> None:
    story = under_investigation()

    assert (
        refused(story, "serve_allegations", subject_refs=[CARER.ref], method=method)
        == "fairness.service-not-in-writing"
    )
    assert story.obligation("allegations_served").status is Status.OPEN


def test_the_incident_shows_how_and_when_each_subject_was_served() -> None:
    story = under_investigation().later(hours=3)
    story.do("serve_allegations", subject_refs=[CARER.ref], method="letter_by_post")

    service = story.incident.service[CARER.ref]
    assert (service.method, service.served_at) == ("letter_by_post", story.now)
    checks = {c.check: c for c in procedural_fairness(story.events, now=story.now)}
    served = checks["allegations_served_in_writing_before_outcome"]
    assert served.evidence_events == ("AllegationsServed",)
    assert served.detail == "carer-1: letter by post at 2025-03-04T15:00:00+11:00"


def test_free_text_service_stored_before_the_enumeration_still_loads_as_legacy() -> None:
    story = allegations_served()
    served = story.events[-1]

    loaded, stored_hash = stored_as_version_one(served, method="in writing")

    assert loaded.method is None and loaded.legacy_method == "in writing"
    assert loaded.hash == stored_hash  # a loaded event keeps the hash it was stored with
    incident = fold([*story.events[:-1], loaded])
    assert incident is not None and CARER.ref in incident.served
    assert incident.service[CARER.ref].method == "legacy: in writing"
    check = next(
        c
        for c in procedural_fairness([*story.events[:-1], loaded], now=story.now)
        if c.check == "allegations_served_in_writing_before_outcome"
    )
    assert check.verdict is Verdict.WARN and "Not recorded as a written means" in check.detail


def test_a_new_versioned_event_verifies_against_its_stored_state() -> None:
    served = allegations_served().events[-1]

    stored = MAPPER.to_stored_event(served)
    state = MAPPER.decode_state(stored)

    assert state["class_version"] == 2
    assert chain_hash(stored.topic, state) == state["hash"]


# ---- 2. carer support planning ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("program", "care", "owed"),
    [
        (Program.CHILD_PROTECTION, CareContext.CP_KINSHIP, True),
        (Program.CHILD_PROTECTION, CareContext.CP_RESPITE, True),
        (Program.CSO, CareContext.CSO_FOSTER_CARE, True),
        (Program.CSO, CareContext.CSO_KINSHIP_CARE, True),
        (Program.CSO, CareContext.CSO_PERMANENT_CARE, True),
        (Program.CSO, CareContext.CSO_PLACEMENT, True),  # legacy value: read as home-based
        (Program.CSO, CareContext.CSO_RESIDENTIAL_CARE, False),
        (Program.CHILD_PROTECTION, CareContext.CP_PRACTITIONER, False),
    ],
)
def test_self_harm_in_home_based_care_owes_a_carer_support_plan(
    program: Program, care: CareContext, owed: bool
) -> None:
    story = reported(program=program, care_context=care, types=[T.SELF_HARM])

    kinds = {o.kind for o in story.obligations()}

    assert ("carer_support_plan" in kinds) is owed


def test_a_carer_subject_owes_a_plan_even_in_residential_care_and_a_plan_meets_it() -> None:
    story = major_abuse_by_carer(care_context=CareContext.CSO_RESIDENTIAL_CARE)
    assert story.obligation("carer_support_plan").status is Status.OPEN

    story.do("record_carer_support_plan", carer_ref=CARER.ref, plan="Weekly supervision.")

    assert story.obligation("carer_support_plan").status is Status.MET


def test_home_based_care_without_a_plan_cannot_close_unless_waived_with_a_reason() -> None:
    story = reported(
        program=Program.CHILD_PROTECTION, care_context=CareContext.CP_KINSHIP, types=[T.SELF_HARM]
    ).do("record_response_plan", plan="Safety plan.")

    assert refused(story, "close", reason="done") == "closure.obligations-outstanding"
    story.do("record_carer_support_plan", carer_ref="kinship-carer", plan="Respite offered.")
    story.do("close", reason="done")


# ---- 3. the cut-over follows submission ---------------------------------------------------------


def test_a_report_submitted_now_about_an_incident_known_before_the_cut_over_is_2024() -> None:
    aware = datetime(2024, 12, 5, 1, 0, tzinfo=UTC)
    story = reported(
        occurred_at=aware - timedelta(hours=1), became_aware_at=aware, types=[T.DEATH]
    ).do("reclassify", impact="major", reason="death")
    story.do("determine_follow_up", kind="incident_review", reason="death")

    assert story.incident.policy_version == "CIMS-2024-12"
    due = story.obligation("investigation_or_review").due
    assert due is not None and due - START == timedelta(days=28)


def test_the_regime_turns_at_midnight_on_9_december_2024_melbourne_time() -> None:
    last_old = datetime(2024, 12, 8, 12, 59, 59, tzinfo=UTC)  # 23:59:59 on the 8th, AEDT

    assert regime_at_submission(last_old).version == "CIMS-2018"
    assert regime_at_submission(last_old + timedelta(seconds=1)).version == "CIMS-2024-12"


def test_a_report_submitted_before_the_cut_over_keeps_the_2018_guide() -> None:
    submitted = datetime(2024, 12, 6, 1, 0, tzinfo=UTC)
    story = reported(
        now=submitted,
        occurred_at=submitted - timedelta(hours=3),
        became_aware_at=submitted - timedelta(hours=2),
    )

    assert story.incident.policy_version == "CIMS-2018"


# ---- 4. minimum requirements for investigations and reviews -------------------------------------


def with_report() -> Story:
    story = (
        under_investigation()
        .do("record_investigation_plan", plan="Interviews.")
        .do("serve_allegations", subject_refs=[CARER.ref], method="email")
        .do("record_subject_response", subject_ref=CARER.ref, response="No.")
        .do("record_outcome", outcomes=[outcome()])
    )
    return story.do("submit_investigation_report", summary="s", recommendations=[recommendation()])


def under_review() -> Story:
    return reported(types=[T.DEATH], impact=Impact.MAJOR).do(
        "determine_follow_up", kind="incident_review", reason="death"
    )


def test_an_investigation_report_needs_a_plan_unless_the_evidence_sufficed() -> None:
    story = responded().do("record_outcome", outcomes=[outcome()], actor=INVESTIGATOR)

    assert (
        refused(
            story, "submit_investigation_report", summary="s", recommendations=[recommendation()]
        )
        == "investigation.plan-before-report"
    )

    sufficient = (
        under_investigation()
        .do("record_evidence", kind="cctv", description="CCTV")
        .do("record_sufficient_evidence_rationale", rationale="CCTV shows it all.")
        .do("record_outcome", outcomes=[outcome()])
    )
    sufficient.do("submit_investigation_report", summary="s", recommendations=[recommendation()])
    assert sufficient.incident.report_submitted


def test_an_investigation_report_is_submitted_once() -> None:
    assert (
        refused(
            with_report(),
            "submit_investigation_report",
            summary="again",
            recommendations=[recommendation("R2")],
        )
        == "investigation.report-already-submitted"
    )


def test_an_incident_review_needs_recommendations_or_a_reason_for_none() -> None:
    story = under_review()
    sections = {"what_happened": "w", "contributing_factors": "c"}

    assert (
        refused(story, "complete_incident_review", recommendations=[], **sections)
        == "review.recommendations-or-reason"
    )
    assert (
        refused(
            story,
            "complete_incident_review",
            recommendations=[recommendation()],
            no_recommendations_reason="none needed",
            **sections,
        )
        == "review.recommendations-or-reason"
    )
    story.do(
        "complete_incident_review",
        recommendations=[],
        no_recommendations_reason="The death was expected; care met every standard.",
        **sections,
    )
    assert story.incident.review_completed


def test_an_incident_review_completes_once() -> None:
    story = under_review().do(
        "complete_incident_review",
        what_happened="w",
        contributing_factors="c",
        recommendations=[recommendation()],
    )

    assert (
        refused(
            story,
            "complete_incident_review",
            what_happened="w2",
            contributing_factors="c2",
            recommendations=[recommendation("R2")],
        )
        == "review.already-completed"
    )


# ---- 5. a report cannot quietly disappear -------------------------------------------------------


def test_a_withdrawal_needs_an_out_of_scope_assessment_or_a_duplicate_link() -> None:
    story = reported()

    assert refused(story, "withdraw", reason="not needed") == "withdrawal.grounds-required"
    assert (
        refused(story, "withdraw", reason="dup", duplicate_of=story.incident.id)
        == "withdrawal.duplicate-of-itself"
    )
    assert (
        refused(story, "withdraw", reason="dup", duplicate_of=uuid4())
        == "withdrawal.duplicate-not-found"
    )

    other = uuid4()
    live = DuplicateTarget(
        withdrawn=False, reporting_organisation="Northside CSO", clients=(CLIENT,)
    )
    story.do("withdraw", reason="reported twice", duplicate_of=other, duplicate=live)
    withdrawn = story.events[-1]
    assert (withdrawn.category, withdrawn.duplicate_of) == (WithdrawalCategory.DUPLICATE, other)
    assert story.incident.withdrawal is WithdrawalCategory.DUPLICATE


def test_a_major_report_is_withdrawn_only_by_a_department_officer() -> None:
    story = major_abuse_by_carer().do(
        "assess_scope", in_scope=False, exclusion="parental_care", reason="with a parent"
    )

    assert (
        refused(story, "withdraw", reason="out of scope", actor=MANAGER)
        == "withdrawal.major-needs-department-approval"
    )
    story.do("withdraw", reason="out of scope", actor=OFFICER)
    assert story.events[-1].category is WithdrawalCategory.OUT_OF_SCOPE
    assert story.events[-1].exclusion == "parental_care"


# ---- 6. Integrity team endorsement of an RCS investigation --------------------------------------


def rcs_under_way() -> Story:
    kin = SubjectOfAllegation(ref="kin-1", role=SubjectRole.KINSHIP_CARER)
    return (
        reported(
            program=Program.CHILD_PROTECTION,
            care_context=CareContext.CP_KINSHIP,
            types=[T.NEGLECT],
            impact=Impact.MAJOR,
            subjects_of_allegation=[kin],
        )
        .do("record_notification", kind="police", recipient="VP")
        .do("record_notification", kind="integrity_team", recipient="IT")
        .do("determine_follow_up", kind="rcs_in_lieu", reason="Integrity team advice")
    )


def test_the_endorsement_names_the_integrity_team_date_and_reference() -> None:
    story = rcs_under_way()
    endorse = {"endorsed_by": "Integrity team", "endorsed_on": START.date(), "reference": "IT-1"}

    assert (
        refused(under_investigation(), "endorse_rcs_investigation", **endorse) == "rcs.not-in-lieu"
    )
    assert (
        refused(story, "endorse_rcs_investigation", **{**endorse, "endorsed_by": " "})
        == "rcs.endorsed-by-required"
    )
    assert (
        refused(story, "endorse_rcs_investigation", **{**endorse, "reference": ""})
        == "rcs.endorsement-reference-required"
    )
    tomorrow = START.date() + timedelta(days=1)
    assert (
        refused(story, "endorse_rcs_investigation", **{**endorse, "endorsed_on": tomorrow})
        == "time.effective-in-future"
    )
    story.do("endorse_rcs_investigation", **endorse, actor=OFFICER)
    assert story.incident.rcs_endorsed


# ---- 7. Aboriginal consultation at the key stages -----------------------------------------------


def test_the_consultation_stage_is_one_of_the_key_stages() -> None:
    story = reported(clients=[ABORIGINAL_CLIENT])

    assert (
        refused(
            story,
            "record_aboriginal_consultation",
            body="acsass",
            stage="initial response",
            consulted="x",
        )
        == "consultation.stage-required"
    )


def test_a_follow_up_decided_without_consultation_makes_it_overdue_and_fails_the_checklist() -> (
    None
):
    story = major_abuse_by_carer(clients=[ABORIGINAL_CLIENT])
    before = story.obligation("aboriginal_consultation_follow_up")
    assert before.status is Status.OPEN and before.due is not None  # ranks in a worklist

    under_investigation(story)

    late = story.obligation("aboriginal_consultation_follow_up", now=story.now + timedelta(1))
    assert late.status is Status.OVERDUE
    check = next(
        c
        for c in procedural_fairness(story.events, now=story.now)
        if c.check == "acsass_or_acco_consulted"
    )
    assert check.verdict is Verdict.FAIL and "the follow-up" in check.detail


def test_consultation_before_the_decision_meets_the_stage() -> None:
    story = major_abuse_by_carer(clients=[ABORIGINAL_CLIENT]).do(
        "record_aboriginal_consultation", body="acsass", stage="follow_up", consulted="ACSASS"
    )
    under_investigation(story)

    assert story.obligation("aboriginal_consultation_follow_up").status is Status.MET
    assert story.obligation("aboriginal_consultation_outcome").status is Status.OPEN


def test_a_free_text_stage_stored_before_the_enumeration_counts_for_the_decisions_after_it() -> (
    None
):
    story = major_abuse_by_carer(clients=[ABORIGINAL_CLIENT]).do(
        "record_aboriginal_consultation", body="acsass", stage="report", consulted="ACSASS"
    )
    legacy, _ = stored_as_version_one(story.events[-1], stage="initial response")
    story.events[-1] = legacy
    under_investigation(story)

    assert legacy.stage is None and legacy.legacy_stage == "initial response"
    incident = fold(story.events)
    assert incident is not None
    assert story.obligation("aboriginal_consultation_follow_up").status is Status.MET


# ---- 8. guardians are known ---------------------------------------------------------------------


def test_only_a_recorded_guardian_is_told_the_outcome_or_asks_for_a_review() -> None:
    story = under_review().do(
        "complete_incident_review",
        what_happened="w",
        contributing_factors="c",
        recommendations=[recommendation()],
    )

    assert (
        refused(
            story, "communicate_outcome", recipient="guardian", recipient_ref="g-1", in_writing=True
        )
        == "guardian.not-recorded"
    )
    assert (
        refused(
            story,
            "record_guardian",
            client_ref="nobody",
            guardian_ref="g-1",
            relationship="guardian",
        )
        == "guardian.unknown-client"
    )
    assert (
        refused(
            story,
            "record_guardian",
            client_ref=CLIENT.ref,
            guardian_ref=" ",
            relationship="guardian",
        )
        == "guardian.ref-required"
    )
    story.do("record_guardian", client_ref=CLIENT.ref, guardian_ref="g-1", relationship="guardian")
    story.do("communicate_outcome", recipient="guardian", recipient_ref="g-1", in_writing=True)


def test_a_guardian_is_recorded_on_the_report_and_only_they_request_a_review() -> None:
    mum = Guardian(
        ref="mum",
        client_ref=CLIENT.ref,
        relationship=GuardianRelationship.PARENT_WITH_PARENTAL_RESPONSIBILITY,
    )
    story = responded(major_abuse_by_carer(guardians=[mum])).do(
        "record_outcome", outcomes=[outcome()]
    )
    grounds = ["procedural_fairness"]

    assert (
        refused(
            story,
            "request_outcome_review",
            requester="guardian",
            requester_ref="aunt",
            grounds=grounds,
        )
        == "guardian.not-recorded"
    )
    story.do("request_outcome_review", requester="guardian", requester_ref="mum", grounds=grounds)
    with pytest.raises(PolicyViolation) as unknown:
        reported(guardians=[mum, mum.model_copy(update={"ref": "dad", "client_ref": "stranger"})])
    assert unknown.value.rule_id == "guardian.unknown-client"
    # Named at the report's own field: the second guardian's client, not a top-level one.
    assert unknown.value.field == "guardians.1.client_ref"


# ---- 9. the fairness checklist judges what a reviewer would -------------------------------------


def checklist(story: Story) -> dict[str, Any]:
    return {c.check: c for c in procedural_fairness(story.events, now=story.now)}


def test_an_outcome_before_a_reasonable_time_to_respond_is_refused() -> None:
    story = allegations_served().later(days=2)

    assert (
        refused(story, "record_outcome", outcomes=[outcome()]) == "fairness.response-time-not-given"
    )
    story.later(days=10).do("record_outcome", outcomes=[outcome()])  # 5 business days passed


def test_the_checklist_fails_an_early_outcome_recorded_before_the_rule(monkeypatch: Any) -> None:
    story = allegations_served().later(hours=1)
    monkeypatch.setattr(fairness, "require_reasonable_time_to_respond", lambda *a, **k: None)
    story.do("record_outcome", outcomes=[outcome()])

    check = checklist(story)["response_recorded_or_chance_given"]

    assert check.verdict is Verdict.FAIL and "within 5 business days" in check.detail
    assert check.evidence_events == ("AllegationsServed", "InvestigationOutcomeRecorded")


def test_the_checklist_fails_a_response_recorded_after_the_outcome() -> None:
    story = allegations_served().later(days=10).do("record_outcome", outcomes=[outcome()])
    story.do("record_subject_response", subject_ref=CARER.ref, response="Too late.")

    check = checklist(story)["response_recorded_or_chance_given"]

    assert check.verdict is Verdict.FAIL and "after the outcome" in check.detail


def test_the_checklist_warns_when_no_client_voice_came_before_the_outcome() -> None:
    story = responded().do("record_outcome", outcomes=[outcome()])
    assert checklist(story)["client_voice_before_outcome"].verdict is Verdict.WARN

    heard = major_abuse_by_carer().do(
        "record_client_voice", client_ref=CLIENT.ref, said="He hit me."
    )
    responded(heard).do("record_outcome", outcomes=[outcome()])
    check = checklist(heard)["client_voice_before_outcome"]
    assert check.verdict is Verdict.PASS and check.evidence_events == ("ClientVoiceRecorded",)


def test_the_checklist_fails_an_investigator_appointed_by_the_subjects_line_manager() -> None:
    line_manager = MANAGER.model_copy(update={"id": STAFF.line_manager_ref})
    story = reported(types=[T.PHYSICAL_ABUSE], impact=Impact.MAJOR, subjects_of_allegation=[STAFF])
    story.do("record_notification", kind="police", recipient="VP")
    story.do("determine_follow_up", kind="investigation", reason="r")
    story.do(
        "appoint_investigator",
        investigator_ref=INVESTIGATOR.id,
        independence_declared=True,
        declaration="d",
        actor=line_manager,
    )

    check = checklist(story)["investigator_not_appointed_by_line_manager"]

    assert check.verdict is Verdict.FAIL and "lm-1" in check.detail
    assert check.evidence_events == ("InvestigatorAppointed",)
    assert checklist(under_investigation())[check.check].verdict is Verdict.PASS


# ---- 10. local time ----------------------------------------------------------------------------


def test_displayed_instants_are_melbourne_time_with_the_offset() -> None:
    story = under_investigation()
    timeframe = checklist(story)["completed_within_28_days"]
    assert timeframe.detail == "due 2025-04-01T12:00:00+11:00"

    story.do(
        "extend",
        obligation_kind="investigation_or_review",
        new_due=datetime(2025, 4, 10, 2, 0, tzinfo=UTC),
        approved_by="Director",
        reason="r",
    )
    assert "2025-04-10T12:00:00+10:00" in summarise(story.events[-1])


# ---- 11. the calendar in force ------------------------------------------------------------------


def test_a_proclaimed_holiday_moves_deadlines_and_changes_the_calendar_fingerprint(
    monkeypatch: Any,
) -> None:
    story = reported()  # aware Tuesday 4 March 2025, 11:00: due Friday 7 March at 17:00
    assert story.obligation("incident_report").due == datetime(2025, 3, 7, 6, 0, tzinfo=UTC)
    before = calendar.calendar_fingerprint()

    proclaimed = proclaimed_holidays.ProclaimedHoliday(
        day=date(2025, 3, 6), name="A one-off holiday", proclaimed_on=date(2025, 3, 5)
    )
    monkeypatch.setattr(
        proclaimed_holidays,
        "PROCLAIMED_HOLIDAYS",
        (*proclaimed_holidays.PROCLAIMED_HOLIDAYS, proclaimed),
    )
    calendar.calendar_changed()
    try:
        assert story.obligation("incident_report").due == datetime(2025, 3, 11, 6, 0, tzinfo=UTC)
        assert calendar.calendar_fingerprint() != before
    finally:
        monkeypatch.undo()
        calendar.calendar_changed()
    assert calendar.calendar_fingerprint() == before


def test_details_factory_is_unchanged() -> None:
    assert isinstance(reported().incident.details, Details)
    assert isinstance(reported().incident, Incident)
