"""Authorisation matrix: every role, every command, own and other organisation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.auth import mint_token
from api.authorisation import ACTIONS, SEE_ALL
from api.main import create_app
from api.settings import Settings
from domain.values import Role
from tests.api.conftest import DEPARTMENT, OTHER, OWN, report_body

OUTCOME = {
    "subject_ref": "carer-1",
    "incident_type": "Physical abuse",
    "finding": "substantiated",
    "rationale": "r",
}
REC = {"id": "R1", "text": "t"}
CHANGES = {"location": "Elsewhere"}
BODIES: dict[str, dict[str, Any]] = {
    "amend": {"changes": CHANGES, "reason": "r"},
    "reclassify": {"regulator_category": "critical", "reason": "r"},
    "scope-assessment": {"in_scope": True, "reason": "r"},
    "withdraw": {"reason": "r"},
    "client-voice": {"client_ref": "client-1", "said": "s"},
    "notifications": {"kind": "police", "recipient": "VP"},
    "aboriginal-consultations": {"body": "acsass", "stage": "report", "consulted": "c"},
    "guardians": {"client_ref": "client-1", "guardian_ref": "g-1", "relationship": "guardian"},
    "department-reviews": {"decision": "accepted"},
    "follow-up": {"kind": "investigation", "reason": "r"},
    "appoint-investigator": {
        "investigator_ref": "x",
        "independence_declared": True,
        "declaration": "d",
    },
    "investigation-plan": {"plan": "p"},
    "serve-allegations": {"subject_refs": ["carer-1"], "method": "email"},
    "subject-responses": {"subject_ref": "carer-1", "response": "r"},
    "evidence": {"kind": "cctv", "description": "d"},
    "sufficient-evidence-rationale": {"rationale": "r"},
    "outcomes": {"outcomes": [OUTCOME]},
    "investigation-report": {"summary": "s", "recommendations": [REC]},
    "incident-review": {
        "what_happened": "w",
        "contributing_factors": "c",
        "recommendations": [REC],
    },
    "rcs-endorsement": {"endorsed_by": "IT", "endorsed_on": "2025-03-04", "reference": "IT-1"},
    "communicate-outcome": {"recipient": "client", "recipient_ref": "client-1", "in_writing": True},
    "request-outcome-review": {
        "requester": "client",
        "requester_ref": "client-1",
        "grounds": ["procedural_fairness"],
    },
    "appoint-outcome-reviewer": {"reviewer_ref": "reviewer-9"},
    "decide-outcome-review": {"result": "confirmed", "reason": "r"},
    "response-plan": {"plan": "p"},
    "carer-support-plan": {"carer_ref": "carer-1", "plan": "p"},
    "extend": {
        "obligation_kind": "incident_report",
        "new_due": "2030-01-01T00:00:00Z",
        "approved_by": "a",
        "reason": "r",
    },
    "recommendation-actions": {"recommendation_id": "R1", "action": "a"},
    "close": {"reason": "r"},
    "reopen": {"reason": "r"},
    "corrections": {"corrected_version": 1, "changes": CHANGES, "reason": "r"},
    "responsible-organisation": {"other_provider": "Southside CSO", "reason": "r"},
    "resolve-legacy-type": {
        "legacy_label": "Injury",
        "incident_type": "Injury-explained",
        "reason": "r",
    },
    "supersede-document": {"document_id": "00000000-0000-4000-8000-000000000001", "reason": "r"},
}
APPOINTED = "investigator-1"


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str, Settings]]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path_factory.mktemp('m')}/m.db",
        jwt_secret="matrix-secret-" + "y" * 32,
        run_projections_in_process=False,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        manager = {
            "Authorization": "Bearer "
            + mint_token(settings, sub="m", role=Role.INCIDENT_MANAGER, org=OWN)
        }
        incident = client.post("/v1/incidents", json=report_body(), headers=manager).json()["id"]
        for n, (action, body) in enumerate(
            [
                ("notifications", {"kind": "police", "recipient": "VP"}),
                ("follow-up", {"kind": "investigation", "reason": "r"}),
                (
                    "appoint-investigator",
                    {
                        "investigator_ref": APPOINTED,
                        "independence_declared": True,
                        "declaration": "d",
                    },
                ),
            ],
            start=1,
        ):
            response = client.post(
                f"/v1/incidents/{incident}/{action}",
                json={**body, "expected_version": n},
                headers=manager,
            )
            assert response.status_code == 200, response.text
        yield client, incident, settings


def expected(role: Role, action: str, org: str) -> int:
    rule = ACTIONS[action]
    sub = f"{role.value}-1"
    if role == Role.REGULATOR:
        return 403
    # The roles that see every incident are the department's: held elsewhere, refused outright.
    if role in SEE_ALL and org != DEPARTMENT:
        return 403
    # The appointee is the principal (OWN, APPOINTED): the same subject elsewhere is not.
    if org != OWN and role not in SEE_ALL:
        return 404
    appointed = role == Role.INVESTIGATOR and org == OWN and sub == APPOINTED
    if role not in rule.roles or (rule.appointed_investigator and not appointed):
        return 403
    if rule.appointed_reviewer:  # no outcome reviewer is appointed on this incident
        return 403
    if rule.reporting_organisation and not (role == Role.DEPARTMENT_OFFICER or org == OWN):
        return 403
    if role == Role.ADMIN:  # reads every record, changes none of another organisation's
        return 403
    return 409  # authorised: the stale expected version is all that stops it


def test_every_action_has_a_body_in_the_matrix() -> None:
    assert set(BODIES) == set(ACTIONS)


@pytest.mark.parametrize("org", [OWN, OTHER, DEPARTMENT])
@pytest.mark.parametrize("role", list(Role))
def test_each_role_may_issue_exactly_its_commands_on_visible_incidents(
    matrix: tuple[TestClient, str, Settings], role: Role, org: str
) -> None:
    client, incident, settings = matrix
    headers = {
        "Authorization": "Bearer " + mint_token(settings, sub=f"{role.value}-1", role=role, org=org)
    }
    found = {}
    for action, body in BODIES.items():
        response = client.post(
            f"/v1/incidents/{incident}/{action}",
            json={**body, "expected_version": 999},
            headers=headers,
        )
        found[action] = response.status_code
    assert found == {action: expected(role, action, org) for action in BODIES}


@pytest.mark.parametrize("org", [OWN, OTHER, DEPARTMENT])
@pytest.mark.parametrize("role", list(Role))
def test_each_role_reads_only_what_it_may(
    matrix: tuple[TestClient, str, Settings], role: Role, org: str
) -> None:
    client, incident, settings = matrix
    headers = {
        "Authorization": "Bearer " + mint_token(settings, sub=f"{role.value}-1", role=role, org=org)
    }
    refused = role == Role.REGULATOR or (role in SEE_ALL and org != DEPARTMENT)
    visible = expected(role, "notifications", org) != 404 and not refused
    for path in ("", "/obligations", "/procedural-fairness", "/audit-trail"):
        status = client.get(f"/v1/incidents/{incident}{path}", headers=headers).status_code
        assert status == (200 if visible else 403 if refused else 404), path
    # Replay is for auditors (who see every incident); any other role is refused outright,
    # the same for every id, so a refusal says nothing about whether an incident exists.
    auditing = role in (Role.AUDITOR, Role.DEPARTMENT_OFFICER) and not refused
    for path in ("/history", "/verify", "/as-of?version=1", "/diff?a=1&b=2", "/export"):
        status = client.get(f"/v1/incidents/{incident}{path}", headers=headers).status_code
        assert status == (200 if auditing else 403), path
    for path in ("/v1/incidents", "/v1/obligations"):
        status = client.get(path, headers=headers).status_code
        assert status == (403 if refused else 200), path


@pytest.mark.parametrize("role", sorted(SEE_ALL))
def test_a_see_all_role_of_another_organisation_reads_and_writes_nothing_and_is_logged(
    matrix: tuple[TestClient, str, Settings], role: Role
) -> None:
    client, incident, settings = matrix
    token = mint_token(settings, sub="intruder", role=role, org="Some Other Provider")
    headers = {"Authorization": f"Bearer {token}"}
    auditor = {
        "Authorization": "Bearer "
        + mint_token(settings, sub="a", role=Role.AUDITOR, org=DEPARTMENT)
    }

    read = client.get(f"/v1/incidents/{incident}", headers=headers)
    amended = client.post(
        f"/v1/incidents/{incident}/amend",
        json={"changes": {"description": "rewritten"}, "reason": "r", "expected_version": 4},
        headers=headers,
    )

    assert read.status_code == amended.status_code == 403
    assert "department" in read.json()["detail"]
    mine, after = [], 0
    while True:
        page = client.get(
            "/v1/access-log", params={"after": after, "limit": 500}, headers=auditor
        ).json()["items"]
        if not page:
            break
        mine += [e for e in page if e["actor_id"] == "intruder" and e["actor_role"] == role]
        after = page[-1]["id"]
    assert {e["outcome"] for e in mine} == {"refused"} and len(mine) >= 2


def test_an_admin_of_the_department_amends_and_corrects_nothing_of_a_provider(
    matrix: tuple[TestClient, str, Settings],
) -> None:
    client, incident, settings = matrix
    admin = {
        "Authorization": "Bearer "
        + mint_token(settings, sub="adm", role=Role.ADMIN, org=DEPARTMENT)
    }
    version = client.get(f"/v1/incidents/{incident}", headers=admin).json()["version"]

    amended = client.post(
        f"/v1/incidents/{incident}/amend",
        json={"changes": {"description": "x"}, "reason": "r", "expected_version": version},
        headers=admin,
    )
    corrected = client.post(
        f"/v1/incidents/{incident}/corrections",
        json={
            "corrected_version": 1,
            "changes": CHANGES,
            "reason": "r",
            "expected_version": version,
        },
        headers=admin,
    )

    assert amended.status_code == corrected.status_code == 403
    assert client.get(f"/v1/incidents/{incident}", headers=admin).json()["version"] == version
