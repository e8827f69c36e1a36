"""Policy fidelity, round 3 (issue 20), on the HTTP API and the CLI: dates as well as order,
withdrawals that cannot make a report vanish, and every deadline explaining itself wherever
obligations are shown."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import OTHER, Auth, Clock, read_models_caught_up, report_body
from tests.api.test_policy_fidelity import INVESTIGATOR, OUTCOME, Flow, investigation

pytestmark = pytest.mark.store


def test_a_response_dated_before_service_is_refused_over_http(
    client: TestClient, auth: Auth, clock: Clock
) -> None:
    flow = investigation(client, auth)
    clock.advance(days=9)
    flow.ok("serve-allegations", "investigator", subject_refs=["carer-1"], method="email")
    clock.advance(days=1)
    eight_days_before = (clock.now - timedelta(days=9)).isoformat()

    response = flow.do(
        "subject-responses",
        "investigator",
        sub=INVESTIGATOR,
        subject_ref="carer-1",
        response="Denied.",
        effective_at=eight_days_before,
    )

    assert response.status_code == 422
    assert response.json()["type"].endswith("fairness.response-before-service")
    flow.ok("subject-responses", "investigator", subject_ref="carer-1", response="Denied.")


def test_an_outcome_dated_before_service_is_refused_over_http(
    client: TestClient, auth: Auth, clock: Clock
) -> None:
    flow = investigation(client, auth)
    clock.advance(days=8)
    flow.ok("serve-allegations", "investigator", subject_refs=["carer-1"], method="email")
    clock.advance(days=8)

    week_before_service = (clock.now - timedelta(days=15)).isoformat()
    assert (
        flow.refused(
            "outcomes", "investigator", outcomes=[OUTCOME], effective_at=week_before_service
        )
        == "fairness.allegations-not-served"
    )
    flow.ok("outcomes", "investigator", outcomes=[OUTCOME])
    assert flow.checks()["allegations_served_in_writing_before_outcome"]["verdict"] == "pass"


def test_two_reports_cannot_each_be_withdrawn_as_the_others_duplicate(
    client: TestClient, auth: Auth
) -> None:
    a = Flow(
        client, auth, impact="non_major", types=["Injury-explained"], subjects_of_allegation=[]
    )
    b = Flow(
        client, auth, impact="non_major", types=["Injury-explained"], subjects_of_allegation=[]
    )

    a.ok("withdraw", reason="reported twice", duplicate_of=b.id)

    assert b.refused("withdraw", reason="reported twice", duplicate_of=a.id) == (
        "withdrawal.duplicate-withdrawn"
    )
    assert b.state()["stage"] != "withdrawn"


def test_a_report_about_another_client_is_no_duplicate(client: TestClient, auth: Auth) -> None:
    x = Flow(
        client, auth, impact="non_major", types=["Injury-explained"], subjects_of_allegation=[]
    )
    y = Flow(
        client,
        auth,
        impact="non_major",
        types=["Injury-explained"],
        subjects_of_allegation=[],
        clients=[{"ref": "client-9", "aboriginal": False}],
    )

    assert x.refused("withdraw", reason="same", duplicate_of=y.id) == (
        "withdrawal.duplicate-other-client"
    )


def test_a_once_major_report_needs_the_department_to_withdraw_it(
    client: TestClient, auth: Auth
) -> None:
    flow = (
        Flow(client, auth, types=["Self-harm"], impact="major", subjects_of_allegation=[])
        .ok("reclassify", impact="non_major", reason="no lasting harm")
        .ok("scope-assessment", in_scope=False, exclusion="illness", reason="illness")
    )

    assert flow.refused("withdraw", reason="out of scope") == (
        "withdrawal.major-needs-department-approval"
    )
    flow.ok("withdraw", "department_officer", reason="out of scope")


def test_a_report_naming_its_own_organisation_as_other_provider_is_refused(
    client: TestClient, auth: Auth
) -> None:
    refused = client.post(
        "/v1/incidents", json=report_body(other_provider="Northside CSO"), headers=auth()
    )

    assert refused.status_code == 422
    assert refused.json()["type"].endswith("access.responsible-organisation-is-reporter")
    ok = client.post("/v1/incidents", json=report_body(other_provider=OTHER), headers=auth())
    assert ok.status_code == 201


def explained(obligation: dict[str, Any]) -> dict[str, Any]:
    e = obligation["explanation"]
    assert e["rule"] == obligation["kind"] and e["policy_source"] and e["policy_version"]
    return e  # type: ignore[no-any-return]


def test_every_deadline_explains_itself_in_the_api_worklist_and_as_of(
    client: TestClient, auth: Auth, clock: Clock
) -> None:
    flow = Flow(client, auth, regulator_category="critical")

    report = explained(flow.obligation("incident_report"))
    assert report["unit"] == "business_days_to_close_of_business" and report["count"] == 3
    assert report["set_by_event"] == "Reported" and report["close_of_business"] == "17:00"
    assert "Source:" in report["text"] and report["policy_version"] == "CIMS-2024-12"

    read_models_caught_up(client)
    # Every status: the worklist's default is what still needs action (the report is met).
    items = client.get("/v1/obligations?status=all", headers=auth()).json()["items"]
    assert {o["kind"]: explained(o)["due"] is not None for o in items}["incident_report"]
    assert all(o["explanation"]["text"] for o in items)

    as_of = client.get(
        f"/v1/incidents/{flow.id}/as-of?version=1", headers=auth("department_officer")
    )
    assert as_of.status_code == 200, as_of.text
    assert all(explained(o) for o in as_of.json()["obligations"])
