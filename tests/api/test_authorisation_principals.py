"""Access follows the organisation, never a name: appointees are principals, the responsible
organisation changes by its own command, and an unseen incident is answered like an unknown one."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import OTHER, OWN, Auth, read_models_caught_up, report_body

pytestmark = pytest.mark.store
THIRD = "Southside Investigations"
OUTCOME = {
    "subject_ref": "carer-1",
    "incident_type": "Physical abuse",
    "finding": "substantiated",
    "rationale": "r",
}


class Incident:
    """An incident of OWN, driven step by step through the API with the right version."""

    def __init__(self, client: TestClient, auth: Auth, **report: Any) -> None:
        self.client, self.auth = client, auth
        response = client.post("/v1/incidents", json=report_body(**report), headers=auth())
        assert response.status_code == 201, response.text
        self.id: str = response.json()["id"]
        self.version = 1

    def post(self, action: str, headers: dict[str, str], **body: Any) -> Any:
        response = self.client.post(
            f"/v1/incidents/{self.id}/{action}",
            json={"expected_version": self.version, **body},
            headers=headers,
        )
        if response.status_code == 200:
            self.version = response.json()["version"]
        return response

    def do(self, action: str, headers: dict[str, str] | None = None, **body: Any) -> Any:
        response = self.post(action, headers or self.auth(), **body)
        assert response.status_code == 200, response.text
        return response.json()

    def get(self, headers: dict[str, str], path: str = "") -> Any:
        return self.client.get(f"/v1/incidents/{self.id}{path}", headers=headers)

    def under_investigation(self, **appointee: Any) -> Incident:
        self.do("notifications", kind="police", recipient="VP")
        self.do("follow-up", kind="investigation", reason="r")
        self.do("appoint-investigator", independence_declared=True, declaration="d", **appointee)
        return self


def test_a_namesake_in_another_organisation_is_not_the_appointed_investigator(
    client: TestClient, auth: Auth
) -> None:
    # The issue's input: inv-7 appointed on an incident of OWN; a token sub=inv-7 of another
    # organisation, as a manager or even as an investigator, neither reads nor acts on it.
    incident = Incident(client, auth).under_investigation(investigator_ref="inv-7")
    for role in ("incident_manager", "investigator"):
        namesake = auth(role, org=OTHER, sub="inv-7")
        assert incident.get(namesake).status_code == 404
        assert incident.post("withdraw", namesake, reason="r").status_code == 404
        assert incident.post("investigation-plan", namesake, plan="p").status_code == 404

    state = incident.get(auth()).json()
    assert state["investigator"] == {"organisation": OWN, "subject": "inv-7"}
    assert state["investigator_ref"] == "inv-7"  # kept for today's clients


def test_only_the_appointee_with_the_investigator_role_takes_the_investigation_steps(
    client: TestClient, auth: Auth
) -> None:
    incident = Incident(client, auth).under_investigation(investigator_ref="inv-7")

    as_manager = auth("incident_manager", sub="inv-7")  # same principal, wrong role
    refused = incident.post("investigation-plan", as_manager, plan="p")
    assert refused.status_code == 403
    other_investigator = auth("investigator", sub="inv-8")  # right role, not appointed
    assert incident.post("investigation-plan", other_investigator, plan="p").status_code == 403

    incident.do("investigation-plan", auth("investigator", sub="inv-7"), plan="p")


def test_an_investigator_of_another_organisation_is_appointed_as_a_principal(
    client: TestClient, auth: Auth
) -> None:
    incident = Incident(client, auth).under_investigation(
        investigator={"organisation": THIRD, "subject": "ext-1"}
    )
    appointee = auth("investigator", org=THIRD, sub="ext-1")

    assert incident.get(appointee).status_code == 200
    incident.do("investigation-plan", appointee, plan="p")
    incident.do("serve-allegations", appointee, subject_refs=["carer-1"], method="email")
    # Only the steps of the appointment: not the provider's own steps, nor its lists.
    assert incident.post(
        "client-voice", appointee, client_ref="client-1", said="s"
    ).status_code == (403)
    assert incident.post("withdraw", appointee, reason="r").status_code == 403
    read_models_caught_up(client)
    listed = client.get("/v1/incidents", headers=appointee).json()["items"]
    assert incident.id not in {i["id"] for i in listed}
    # The same subject with another role, or in the appointing organisation, is someone else.
    assert incident.get(auth("incident_manager", org=THIRD, sub="ext-1")).status_code == 404
    assert incident.post(
        "outcomes", auth("investigator", sub="ext-1"), outcomes=[OUTCOME]
    ).status_code == (403)


def test_an_appointment_names_the_appointee_exactly_once(client: TestClient, auth: Auth) -> None:
    incident = Incident(client, auth)
    incident.do("notifications", kind="police", recipient="VP")
    incident.do("follow-up", kind="investigation", reason="r")

    both = incident.post(
        "appoint-investigator",
        auth(),
        investigator_ref="inv-7",
        investigator={"organisation": THIRD, "subject": "ext-1"},
        independence_declared=True,
        declaration="d",
    )
    neither = incident.post(
        "appoint-investigator", auth(), independence_declared=True, declaration="d"
    )

    for response in (both, neither):
        assert response.status_code == 422
        assert response.json()["rule"] == "appointment.appointee-required"


def test_an_incident_manager_may_not_appoint_themselves(client: TestClient, auth: Auth) -> None:
    incident = Incident(client, auth)
    incident.do("notifications", kind="police", recipient="VP")
    incident.do("follow-up", kind="investigation", reason="r")

    for appointee in (
        {"investigator_ref": "incident_manager-1"},
        {"investigator": {"organisation": OWN, "subject": "incident_manager-1"}},
    ):
        refused = incident.post(
            "appoint-investigator", auth(), independence_declared=True, declaration="d", **appointee
        )
        assert refused.status_code == 422
        assert refused.json()["rule"] == "appointment.self-appointment"
    # A namesake in another organisation is another person.
    incident.do(
        "appoint-investigator",
        investigator={"organisation": THIRD, "subject": "incident_manager-1"},
        independence_declared=True,
        declaration="d",
    )


def test_the_outcome_review_is_decided_by_the_appointed_reviewer_principal_only(
    client: TestClient, auth: Auth
) -> None:
    incident = Incident(client, auth).under_investigation(investigator_ref="inv-7")
    investigator = auth("investigator", sub="inv-7")
    incident.do("serve-allegations", investigator, subject_refs=["carer-1"], method="email")
    incident.do("subject-responses", investigator, subject_ref="carer-1", response="No.")
    incident.do("outcomes", investigator, outcomes=[OUTCOME])
    incident.do(
        "request-outcome-review",
        requester="client",
        requester_ref="client-1",
        grounds=["procedural_fairness"],
    )
    decision = {"result": "confirmed", "reason": "r"}
    # Before an appointment no reviewer decides, however named.
    assert incident.post("decide-outcome-review", auth("reviewer"), **decision).status_code == 403

    self_appointed = incident.post(
        "appoint-outcome-reviewer", auth(), reviewer_ref="incident_manager-1"
    )
    assert self_appointed.json()["rule"] == "appointment.self-appointment"
    not_independent = incident.post("appoint-outcome-reviewer", auth(), reviewer_ref="inv-7")
    assert not_independent.json()["rule"] == "outcome-review.reviewer-not-independent"
    incident.do("appoint-outcome-reviewer", reviewer={"organisation": "DFFH", "subject": "rev-1"})

    for refused in (
        auth("reviewer"),  # a reviewer of the reporting organisation, not appointed
        auth("department_officer", org="DFFH", sub="rev-1"),  # the principal, another role
        auth("reviewer", org=OWN, sub="rev-1"),  # the subject, another organisation
    ):
        assert incident.post("decide-outcome-review", refused, **decision).status_code == 403
    for unseen in (
        auth("reviewer", org="DFFH", sub="rev-2"),  # another reviewer of the same organisation
        auth("reviewer", org=OTHER, sub="rev-1"),  # a namesake elsewhere
    ):
        assert incident.post("decide-outcome-review", unseen, **decision).status_code == 404

    reviewer = auth("reviewer", org="DFFH", sub="rev-1")
    assert incident.get(reviewer).status_code == 200
    assert incident.post("withdraw", reviewer, reason="r").status_code == 403
    incident.do("decide-outcome-review", reviewer, **decision)


def test_the_responsible_organisation_changes_only_by_its_own_command(
    client: TestClient, auth: Auth
) -> None:
    # The issue's input: OTHER, named responsible, amended other_provider to hand the record
    # to a third organisation.
    incident = Incident(client, auth, other_provider=OTHER)
    other = auth(org=OTHER)

    handed = incident.post("amend", other, changes={"other_provider": THIRD}, reason="take it")
    assert handed.status_code == 422
    assert handed.json()["rule"] == "access.responsible-organisation-by-command"
    corrected = incident.post(
        "corrections", auth(), corrected_version=1, changes={"other_provider": THIRD}, reason="r"
    )
    assert corrected.json()["rule"] == "access.responsible-organisation-by-command"
    assert (
        incident.post(
            "responsible-organisation", other, other_provider=THIRD, reason="take it"
        ).status_code
        == 403
    )
    assert incident.get(auth(org=THIRD)).status_code == 404

    changed = incident.do("responsible-organisation", other_provider=THIRD, reason="moved")
    assert changed["event"]["type"] == "ResponsibleOrganisationChanged"
    assert (changed["event"]["previous"], changed["event"]["other_provider"]) == (OTHER, THIRD)
    assert incident.get(auth(org=THIRD)).status_code == 200
    assert incident.get(other).status_code == 404
    # The department changes it too; the reporting organisation cannot be named.
    officer = auth("department_officer", org="DFFH")
    incident.do("responsible-organisation", officer, other_provider=None, reason="back home")
    assert incident.get(auth(org=THIRD)).status_code == 404
    same = incident.post("responsible-organisation", auth(), other_provider=OWN, reason="r")
    assert same.json()["rule"] == "access.responsible-organisation-is-reporter"

    read_models_caught_up(client)
    trail = incident.get(auth(), "/audit-trail").json()["items"]
    changes = [i for i in trail if i["event_type"] == "ResponsibleOrganisationChanged"]
    assert [c["summary"] for c in changes] == [
        f"Access changed: responsible organisation {OTHER} → {THIRD}",
        f"Access changed: responsible organisation {THIRD} → (none)",
    ]
    assert [c["reason"] for c in changes] == ["moved", "back home"]


def incident_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every endpoint that takes an incident id, as the app publishes them: a new endpoint is
    covered by the tests that use this without being named."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return sorted(
        (method.upper(), path)
        for path, operations in paths.items()
        if "{incident_id}" in path
        for method in operations
    )


def _call(client: TestClient, method: str, path: str, incident: str, headers: Any) -> Any:
    url = path.replace("{incident_id}", incident).replace("{document_id}", str(uuid.UUID(int=7)))
    if method == "GET":
        query = {"as-of": {"version": 1}, "diff": {"a": 1, "b": 2}}.get(url.rsplit("/", 1)[-1])
        return client.get(url, params=query, headers=headers)
    if url.endswith("/documents"):  # a multipart upload
        return client.post(
            url,
            data={"kind": "evidence", "expected_version": "1"},
            files={"file": ("a.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")},
            headers=headers,
        )
    from tests.api.test_authorisation import BODIES

    body = {**BODIES[url.rsplit("/", 1)[-1]], "expected_version": 1}
    return client.post(url, json=body, headers=headers)


def test_an_unseen_incident_is_answered_exactly_like_an_unknown_one_on_every_endpoint(
    client: TestClient, auth: Auth
) -> None:
    incident = Incident(client, auth)
    unknown = str(uuid.uuid4())
    routes = incident_routes(client)
    assert len(routes) > 30
    for role in ("incident_manager", "reporter", "investigator", "reviewer", "auditor"):
        # An auditor is the department's (an auditor of another organisation is refused).
        outsider = auth(role, org="DFFH" if role == "auditor" else OTHER)
        for method, path in routes:
            seen = _call(client, method, path, incident.id, outsider)
            absent = _call(client, method, path, unknown, outsider)
            if role == "auditor":  # sees every incident: only the unknown one is a 404
                assert absent.status_code == 404, path
                continue
            assert seen.status_code == absent.status_code, (role, path)
            assert seen.content.replace(incident.id.encode(), unknown.encode()) == absent.content
            # Every header alike but the request's own id, which each answer carries anew.
            assert _but_request_id(seen.headers) == _but_request_id(absent.headers), (role, path)


def test_a_regulator_is_refused_before_the_incident_is_read(client: TestClient, auth: Auth) -> None:
    incident = Incident(client, auth)
    regulator = auth("regulator", org="ssr")
    for method, path in incident_routes(client):
        seen = _call(client, method, path, incident.id, regulator)
        absent = _call(client, method, path, str(uuid.uuid4()), regulator)
        assert seen.status_code == absent.status_code == 403, path
        assert seen.json()["detail"] == absent.json()["detail"]


def _but_request_id(headers: Any) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() != "x-request-id"}
