"""Policy fidelity, round 2 (issue 12), on the HTTP API: each rule refused with its id."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import OTHER, Auth, Clock, read_models_caught_up, report_body

pytestmark = pytest.mark.store
INVESTIGATOR = "investigator-1"
OUTCOME = {
    "subject_ref": "carer-1",
    "incident_type": "Physical abuse",
    "finding": "substantiated",
    "rationale": "Consistent accounts.",
}
REC = [{"id": "R1", "text": "Training."}]


class Flow:
    """One incident driven through the API, keeping the version it last saw."""

    def __init__(self, client: TestClient, auth: Auth, org: str | None = None, **report: Any):
        self.client, self.auth = client, auth
        headers = auth(org=org) if org else auth()
        created = client.post("/v1/incidents", json=report_body(**report), headers=headers)
        assert created.status_code == 201, created.text
        self.id, self.version = created.json()["id"], created.json()["version"]

    def do(self, action: str, role: str = "incident_manager", sub: str | None = None, **body: Any):  # type: ignore[no-untyped-def]
        response = self.client.post(
            f"/v1/incidents/{self.id}/{action}",
            json={"expected_version": self.version, **body},
            headers=self.auth(role, sub=sub),
        )
        if response.status_code == 200:
            self.version = response.json()["version"]
        return response

    def ok(self, action: str, role: str = "incident_manager", **body: Any) -> Flow:
        sub = INVESTIGATOR if role == "investigator" else None
        response = self.do(action, role, sub=sub, **body)
        assert response.status_code == 200, response.text
        return self

    def refused(self, action: str, role: str = "incident_manager", **body: Any) -> str:
        sub = INVESTIGATOR if role == "investigator" else None
        response = self.do(action, role, sub=sub, **body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        return str(problem.get("rule") or problem["errors"][0]["field"])

    def state(self) -> dict[str, Any]:
        body: dict[str, Any] = self.client.get(
            f"/v1/incidents/{self.id}", headers=self.auth()
        ).json()
        return body

    def obligation(self, kind: str) -> dict[str, Any]:
        return next(o for o in self.state()["obligations"] if o["kind"] == kind)

    def checks(self) -> dict[str, dict[str, Any]]:
        read_models_caught_up(self.client)
        found = self.client.get(f"/v1/incidents/{self.id}/procedural-fairness", headers=self.auth())
        return {c["check"]: c for c in found.json()["checks"]}


def investigation(client: TestClient, auth: Auth, **report: Any) -> Flow:
    return (
        Flow(client, auth, **report)
        .ok("notifications", kind="police", recipient="Victoria Police")
        .ok("follow-up", kind="investigation", reason="abuse by a carer")
        .ok(
            "appoint-investigator",
            investigator_ref=INVESTIGATOR,
            independence_declared=True,
            declaration="Independent.",
        )
    )


def served(client: TestClient, auth: Auth, **report: Any) -> Flow:
    return investigation(client, auth, **report).ok(
        "serve-allegations", "investigator", subject_refs=["carer-1"], method="letter_by_post"
    )


def with_outcome(client: TestClient, auth: Auth, **report: Any) -> Flow:
    return (
        served(client, auth, **report)
        .ok("subject-responses", "investigator", subject_ref="carer-1", response="Denied.")
        .ok("outcomes", "investigator", outcomes=[OUTCOME])
    )


# 1 ---------------------------------------------------------------------------------------------


def test_verbal_or_phone_service_is_refused_and_written_service_is_shown(
    client: TestClient, auth: Auth
) -> None:
    flow = investigation(client, auth)

    assert (
        flow.refused("serve-allegations", "investigator", subject_refs=["carer-1"], method="phone")
        == "fairness.service-not-in-writing"
    )
    assert (
        flow.refused(
            "serve-allegations",
            "investigator",
            subject_refs=["carer-1"],
            method="verbally, by phone",
        )
        == "method"
    )
    flow.ok("serve-allegations", "investigator", subject_refs=["carer-1"], method="secure_portal")
    service = flow.state()["service"]["carer-1"]
    assert service == {"method": "secure_portal", "served_at": "2025-03-04T01:00:00Z"}


# 2 ---------------------------------------------------------------------------------------------


def test_self_harm_in_a_kinship_placement_owes_carer_support_and_old_values_stay_valid(
    client: TestClient, auth: Auth
) -> None:
    self_harm = {"types": ["Self-harm"], "impact": "non_major", "subjects_of_allegation": []}
    kinship = Flow(client, auth, program="child_protection", care_context="cp_kinship", **self_harm)
    legacy = Flow(client, auth, care_context="cso_placement", **self_harm)
    residential = Flow(client, auth, care_context="cso_residential_care", **self_harm)
    foster = Flow(client, auth, care_context="cso_foster_care", **self_harm)

    def owed(flow: Flow) -> bool:
        return any(o["kind"] == "carer_support_plan" for o in flow.state()["obligations"])

    assert owed(kinship) and owed(legacy) and owed(foster)
    assert not owed(residential)


# 3 ---------------------------------------------------------------------------------------------


def test_a_report_submitted_now_about_awareness_before_the_cut_over_follows_2024(
    client: TestClient, auth: Auth
) -> None:
    flow = Flow(
        client,
        auth,
        occurred_at="2024-12-05T09:00:00+11:00",
        became_aware_at="2024-12-05T10:00:00+11:00",
        types=["Death"],
        subjects_of_allegation=[],
    )

    assert flow.state()["policy_version"] == "CIMS-2024-12"
    flow.ok("follow-up", kind="incident_review", reason="death")
    assert flow.obligation("investigation_or_review")["due"] == "2025-04-01T01:00:00Z"  # 28 days


# 4 ---------------------------------------------------------------------------------------------


def test_reports_need_a_plan_and_reviews_complete_once_with_recommendations_or_a_reason(
    client: TestClient, auth: Auth, clock: Clock
) -> None:
    flow = with_outcome(client, auth)
    assert (
        flow.refused("investigation-report", "investigator", summary="s", recommendations=REC)
        == "investigation.plan-before-report"
    )
    flow.ok("investigation-plan", "investigator", plan="Interviews.")
    flow.ok("investigation-report", "investigator", summary="s", recommendations=REC)
    assert (
        flow.refused("investigation-report", "investigator", summary="s2", recommendations=[])
        == "investigation.report-already-submitted"
    )

    review = Flow(client, auth, types=["Death"], subjects_of_allegation=[]).ok(
        "follow-up", kind="incident_review", reason="death"
    )
    sections = {"what_happened": "w", "contributing_factors": "c"}
    assert (
        review.refused("incident-review", recommendations=[], **sections)
        == "review.recommendations-or-reason"
    )
    review.ok("incident-review", no_recommendations_reason="Care met every standard.", **sections)
    assert review.refused("incident-review", recommendations=REC, **sections) == (
        "review.already-completed"
    )


# 5 ---------------------------------------------------------------------------------------------


def test_a_withdrawal_needs_grounds_a_visible_duplicate_and_for_major_the_department(
    client: TestClient, auth: Auth
) -> None:
    flow = Flow(client, auth)
    theirs = Flow(client, auth, org=OTHER)

    assert flow.refused("withdraw", reason="not needed") == "withdrawal.grounds-required"
    assert flow.refused("withdraw", reason="d", duplicate_of=flow.id) == (
        "withdrawal.duplicate-of-itself"
    )
    for unseen in (theirs.id, str(uuid4())):
        assert flow.refused("withdraw", reason="d", duplicate_of=unseen) == (
            "withdrawal.duplicate-not-found"
        )
    mine = Flow(client, auth)
    assert flow.refused("withdraw", reason="d", duplicate_of=mine.id) == (
        "withdrawal.major-needs-department-approval"
    )
    flow.ok("withdraw", "department_officer", reason="reported twice", duplicate_of=mine.id)

    read_models_caught_up(client)
    items = client.get("/v1/feeds/ssr", headers=auth("regulator", org="SSR")).json()["items"]
    withdrawn = [i for i in items if i["type"].endswith(".withdrawn")]
    assert [i["data"]["withdrawal"] for i in withdrawn] == ["duplicate"]
    assert "reported twice" not in str(withdrawn)


# 6 ---------------------------------------------------------------------------------------------


def test_an_rcs_report_stands_in_lieu_only_once_endorsed_by_the_integrity_team(
    client: TestClient, auth: Auth
) -> None:
    flow = (
        Flow(
            client,
            auth,
            program="child_protection",
            care_context="cp_kinship",
            types=["Neglect"],
            subjects_of_allegation=[{"ref": "carer-1", "role": "kinship_carer"}],
        )
        .ok("notifications", kind="police", recipient="VP")
        .ok("notifications", kind="integrity_team", recipient="Integrity team")
    )
    endorsement = {
        "endorsed_by": "Integrity team",
        "endorsed_on": "2025-03-04",
        "reference": "IT-9",
    }
    assert flow.refused("rcs-endorsement", "department_officer", **endorsement) == "rcs.not-in-lieu"
    flow.ok("follow-up", kind="rcs_in_lieu", reason="Integrity team advice")
    flow.ok(
        "appoint-investigator",
        investigator_ref=INVESTIGATOR,
        independence_declared=True,
        declaration="Independent.",
    )
    flow.ok("serve-allegations", "investigator", subject_refs=["carer-1"], method="email")
    flow.ok("subject-responses", "investigator", subject_ref="carer-1", response="No.")
    flow.ok("outcomes", "investigator", outcomes=[{**OUTCOME, "incident_type": "Neglect"}])

    assert (
        flow.refused("investigation-report", "investigator", summary="RCS", recommendations=REC)
        == "rcs.endorsement-required"
    )
    flow.ok("rcs-endorsement", "department_officer", **endorsement)
    flow.ok("investigation-report", "investigator", summary="RCS", recommendations=REC)


# 7 ---------------------------------------------------------------------------------------------


def test_aboriginal_consultation_is_owed_at_each_decision_by_named_stage(
    client: TestClient, auth: Auth, clock: Clock
) -> None:
    flow = Flow(client, auth, clients=[{"ref": "client-1", "aboriginal": True}])
    assert flow.obligation("aboriginal_consultation_follow_up")["due"] is not None
    assert (
        flow.refused(
            "aboriginal-consultations", body="acsass", stage="initial response", consulted="x"
        )
        == "stage"
    )

    flow.ok("notifications", kind="police", recipient="VP")
    flow.ok("follow-up", kind="investigation", reason="abuse")
    clock.advance(hours=1)

    assert flow.obligation("aboriginal_consultation_follow_up")["status"] == "overdue"
    check = flow.checks()["acsass_or_acco_consulted"]
    assert check["verdict"] == "fail" and "the follow-up" in check["detail"]
    flow.ok("aboriginal-consultations", body="acsass", stage="follow_up", consulted="ACSASS")
    assert flow.obligation("aboriginal_consultation_follow_up")["status"] == "met_late"


# 8 ---------------------------------------------------------------------------------------------


def test_only_a_recorded_guardian_is_told_the_outcome_or_requests_a_review(
    client: TestClient, auth: Auth, clock: Clock
) -> None:
    guardian = {"ref": "mum", "client_ref": "client-1", "relationship": "guardian"}
    flow = with_outcome(client, auth, guardians=[guardian])

    assert (
        flow.refused(
            "communicate-outcome", recipient="guardian", recipient_ref="aunt", in_writing=True
        )
        == "guardian.not-recorded"
    )
    assert (
        flow.refused(
            "request-outcome-review",
            requester="guardian",
            requester_ref="aunt",
            grounds=["procedural_fairness"],
        )
        == "guardian.not-recorded"
    )
    assert (
        flow.refused("guardians", client_ref="nobody", guardian_ref="aunt", relationship="guardian")
        == "guardian.unknown-client"
    )
    flow.ok("guardians", client_ref="client-1", guardian_ref="aunt", relationship="guardian")
    flow.ok("communicate-outcome", recipient="guardian", recipient_ref="aunt", in_writing=True)
    flow.ok("communicate-outcome", recipient="guardian", recipient_ref="mum", in_writing=True)


# 9 ---------------------------------------------------------------------------------------------


def test_the_outcome_waits_for_a_response_and_the_checklist_judges_as_a_reviewer_would(
    client: TestClient, auth: Auth, clock: Clock
) -> None:
    flow = served(client, auth)
    clock.advance(days=1)
    assert (
        flow.refused("outcomes", "investigator", outcomes=[OUTCOME])
        == "fairness.response-time-not-given"
    )
    clock.advance(days=10)
    flow.ok("outcomes", "investigator", outcomes=[OUTCOME])
    flow.ok("subject-responses", "investigator", subject_ref="carer-1", response="Late reply.")

    checks = flow.checks()
    respond = checks["response_recorded_or_chance_given"]
    assert respond["verdict"] == "fail" and "after the outcome" in respond["detail"]
    assert "SubjectResponseRecorded" in respond["evidence_events"]
    assert checks["client_voice_before_outcome"]["verdict"] == "warn"
    assert checks["investigator_not_appointed_by_line_manager"]["verdict"] == "pass"


def test_the_checklist_fails_an_appointment_by_the_subjects_line_manager(
    client: TestClient, auth: Auth
) -> None:
    flow = Flow(
        client,
        auth,
        subjects_of_allegation=[
            {"ref": "carer-1", "role": "carer", "line_manager_ref": "incident_manager-1"}
        ],
    )
    flow.ok("notifications", kind="police", recipient="VP")
    flow.ok("follow-up", kind="investigation", reason="abuse")
    flow.ok(
        "appoint-investigator",
        investigator_ref=INVESTIGATOR,
        independence_declared=True,
        declaration="Independent.",
    )

    check = flow.checks()["investigator_not_appointed_by_line_manager"]

    assert check["verdict"] == "fail" and check["evidence_events"] == ["InvestigatorAppointed"]


# 10 --------------------------------------------------------------------------------------------


def test_statistics_group_by_the_melbourne_month_and_details_show_melbourne_time(
    client: TestClient, auth: Auth, clock: Clock
) -> None:
    clock.now = datetime(2025, 3, 31, 22, 0, tzinfo=UTC)  # 1 April 2025, 09:00 in Melbourne
    flow = investigation(
        client,
        auth,
        occurred_at="2025-04-01T07:00:00+11:00",
        became_aware_at="2025-04-01T08:00:00+11:00",
    )
    read_models_caught_up(client)

    stats = client.get("/v1/statistics", headers=auth()).json()
    assert stats["by_month"] == {"2025-04": 1}
    assert flow.checks()["completed_within_28_days"]["detail"] == "due 2025-04-29T09:00:00+10:00"


# 11 --------------------------------------------------------------------------------------------


def test_read_models_recompute_deadlines_when_a_holiday_is_proclaimed(
    client: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    from api.main import create_app
    from domain import calendar, proclaimed_holidays
    from tests.api.conftest import Clock as AppClock

    Flow(client, auth)
    read_models_caught_up(client)

    def report_due(c: TestClient) -> str:
        read_models_caught_up(c)
        items = c.get("/v1/obligations", params={"status": "all"}, headers=auth()).json()["items"]
        return str(next(o["due"] for o in items if o["kind"] == "incident_report"))

    assert report_due(client) == "2025-03-07T06:00:00.000000Z"
    settings = client.app.state.services.settings  # type: ignore[attr-defined]
    holiday = proclaimed_holidays.ProclaimedHoliday(
        day=date(2025, 3, 6), name="Proclaimed", proclaimed_on=date(2025, 3, 5)
    )
    monkeypatch.setattr(
        proclaimed_holidays,
        "PROCLAIMED_HOLIDAYS",
        (*proclaimed_holidays.PROCLAIMED_HOLIDAYS, holiday),
    )
    calendar.calendar_changed()
    try:
        with TestClient(
            create_app(settings, clock=AppClock()), raise_server_exceptions=False
        ) as again:
            assert report_due(again) == "2025-03-11T06:00:00.000000Z"
    finally:
        monkeypatch.undo()
        calendar.calendar_changed()


def test_the_investigator_who_reached_the_outcome_cannot_be_replaced(
    client: TestClient, auth: Auth
) -> None:
    """Found by the newcomer's walk-through: the README said "once only" while a second
    appointment was accepted after the outcome, and the page kept offering it."""
    flow = with_outcome(client, auth)
    again = {
        "investigator_ref": "inv-2",
        "independence_declared": True,
        "declaration": "Independent.",
    }

    assert flow.refused("appoint-investigator", **again) == "appointment.investigator-after-outcome"
    offered = [a["command"] for a in flow.state()["next_actions"]]
    assert "appoint-investigator" not in offered
