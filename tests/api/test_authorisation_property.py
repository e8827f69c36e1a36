"""Property: on every endpoint that takes an incident id, a generated caller (role by organisation
by subject, the subjects including every name stored on the incident) is let through exactly when
the visibility rule, written out here from the policy and not from the code, says so."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.auth import mint_token
from api.authorisation import ACTIONS, ADD_DOCUMENT, may_act
from api.main import create_app
from api.settings import Settings
from domain.values import Actor, Role
from tests.api.conftest import OTHER, OWN, report_body
from tests.api.test_authorisation import BODIES
from tests.api.test_authorisation_principals import incident_routes

RESPONSIBLE = "Southside CSO"  # named responsible for the incident (other_provider)
EXTERNAL = "Westside Investigations"  # the appointed investigator's organisation
DEPARTMENT = "DFFH"  # the appointed outcome reviewer's organisation
INVESTIGATOR = (EXTERNAL, "inv-7")
REVIEWER = (DEPARTMENT, "rev-1")
MANAGER = "m"
# Every name stored on the incident, and some that are not.
SUBJECTS = [MANAGER, "inv-7", "rev-1", "client-1", "carer-1", "VP", "incident_manager-1", "x"]
ORGANISATIONS = [OWN, RESPONSIBLE, EXTERNAL, DEPARTMENT, OTHER]
SEE_EVERY_INCIDENT = {Role.DEPARTMENT_OFFICER, Role.AUDITOR, Role.ADMIN}
READ_REPLAY = {Role.AUDITOR, Role.DEPARTMENT_OFFICER}
REPLAY = {"history", "as-of", "diff", "verify", "export"}


@dataclass(frozen=True)
class Caller:
    role: Role
    organisation: str
    subject: str

    def is_(self, role: Role, principal: tuple[str, str]) -> bool:
        return self.role == role and (self.organisation, self.subject) == principal


def sees_by_organisation(c: Caller) -> bool:
    """A provider sees the incidents it reports or is named responsible for; the department,
    auditors and admins see all; regulators none."""
    if c.role == Role.REGULATOR:
        return False
    return c.role in SEE_EVERY_INCIDENT or c.organisation in (OWN, RESPONSIBLE)


def sees(c: Caller) -> bool:
    """...and an appointee, with the appointment's role, the incident they are appointed on."""
    return (
        sees_by_organisation(c)
        or c.is_(Role.INVESTIGATOR, INVESTIGATOR)
        or c.is_(Role.REVIEWER, REVIEWER)
    )


def expected(c: Caller, method: str, path: str) -> int:
    """The status a caller gets: 200 (a read) or 409 (a command let through, stopped only by
    its stale version) when granted; 403 or 404 when not."""
    name = path.rsplit("/", 1)[-1]
    if c.role == Role.REGULATOR:
        return 403
    if c.role in SEE_EVERY_INCIDENT and c.organisation != DEPARTMENT:
        return 403  # the roles that see every incident are the department's alone
    if method == "GET" and name in REPLAY:
        return 200 if c.role in READ_REPLAY else 403
    if not sees(c):
        return 404
    if method == "GET":
        return 200
    action = ADD_DOCUMENT if name == "documents" else ACTIONS[name]
    if c.role not in action.roles:
        return 403
    if action.appointed_investigator:
        return 409 if c.is_(Role.INVESTIGATOR, INVESTIGATOR) else 403
    if action.appointed_reviewer:
        return 409 if c.is_(Role.REVIEWER, REVIEWER) else 403
    if name == "documents":  # an appointee adds the documents of their appointment too
        return 409
    if not sees_by_organisation(c):  # an appointee: the appointment's steps only
        return 403
    if action.reporting_organisation and not (
        c.role == Role.DEPARTMENT_OFFICER or c.organisation == OWN
    ):
        return 403
    if c.role == Role.ADMIN and c.organisation not in (OWN, RESPONSIBLE):
        return 403  # an admin changes nothing of another organisation's
    return 409


def headers(cfg: Settings, role: Role, org: str, sub: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(cfg, sub=sub, role=role, org=org)}


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str, Settings]]:
    """An incident of OWN, RESPONSIBLE named responsible, an investigator of EXTERNAL appointed
    and an outcome review pending before a reviewer of the department."""
    cfg = Settings(
        database_url=f"sqlite:///{tmp_path_factory.mktemp('p')}/p.db",
        jwt_secret="property-secret-" + "z" * 32,
        run_projections_in_process=False,
    )
    with TestClient(create_app(cfg), raise_server_exceptions=False) as client:
        manager = headers(cfg, Role.INCIDENT_MANAGER, OWN, MANAGER)
        investigator = headers(cfg, Role.INVESTIGATOR, *INVESTIGATOR)
        response = client.post(
            "/v1/incidents", json=report_body(other_provider=RESPONSIBLE), headers=manager
        )
        incident = response.json()["id"]
        steps: list[tuple[str, dict[str, str], dict[str, Any]]] = [
            ("notifications", manager, {"kind": "police", "recipient": "VP"}),
            ("follow-up", manager, {"kind": "investigation", "reason": "r"}),
            (
                "appoint-investigator",
                manager,
                {
                    "investigator": {"organisation": EXTERNAL, "subject": "inv-7"},
                    "independence_declared": True,
                    "declaration": "d",
                },
            ),
            ("serve-allegations", investigator, {"subject_refs": ["carer-1"], "method": "email"}),
            ("subject-responses", investigator, {"subject_ref": "carer-1", "response": "No."}),
            ("outcomes", investigator, BODIES["outcomes"]),
            ("request-outcome-review", manager, BODIES["request-outcome-review"]),
            (
                "appoint-outcome-reviewer",
                manager,
                {"reviewer": {"organisation": DEPARTMENT, "subject": "rev-1"}},
            ),
        ]
        for version, (action, who, body) in enumerate(steps, start=1):
            response = client.post(
                f"/v1/incidents/{incident}/{action}",
                json={**body, "expected_version": version},
                headers=who,
            )
            assert response.status_code == 200, (action, response.text)
        added = client.post(
            f"/v1/incidents/{incident}/documents",
            data={"kind": "allegations_letter", "expected_version": str(len(steps) + 1)},
            files={"file": ("letter.pdf", PDF, "application/pdf")},
            headers=investigator,
        )
        assert added.status_code == 201, added.text
        SCENE_DOCUMENT.append(added.json()["document_id"])
        yield client, incident, cfg


PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
SCENE_DOCUMENT: list[str] = []


def call(client: TestClient, method: str, path: str, incident: str, who: dict[str, str]) -> Any:
    url = path.replace("{incident_id}", incident).replace("{document_id}", SCENE_DOCUMENT[-1])
    name = url.rsplit("/", 1)[-1]
    if method == "POST" and name == "documents":
        return client.post(
            url,
            data={"kind": "evidence", "expected_version": "1"},
            files={"file": ("other.pdf", PDF + b"%other\n", "application/pdf")},
            headers=who,
        )
    if method == "GET":
        query = {"as-of": {"version": 1}, "diff": {"a": 1, "b": 2}}.get(name)
        return client.get(url, params=query, headers=who)
    # A stale version: a caller let through is stopped by it (409) and changes nothing.
    return client.post(url, json={**BODIES[name], "expected_version": 1}, headers=who)


def test_the_scene_covers_every_endpoint_that_takes_an_incident_id(
    scene: tuple[TestClient, str, Settings],
) -> None:
    client, _, _ = scene
    routes = incident_routes(client)
    commands = {path.rsplit("/", 1)[-1] for method, path in routes if method == "POST"}
    assert commands == set(ACTIONS) | {"documents"}
    assert set(ACTIONS) == set(BODIES)
    assert {("GET", "/v1/incidents/{incident_id}")} < set(routes)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    role=st.sampled_from(list(Role)),
    organisation=st.sampled_from(ORGANISATIONS),
    subject=st.sampled_from(SUBJECTS),
)
def test_access_is_granted_exactly_when_the_visibility_rule_says_so(
    scene: tuple[TestClient, str, Settings], role: Role, organisation: str, subject: str
) -> None:
    client, incident, cfg = scene
    caller = Caller(role, organisation, subject)
    who = headers(cfg, role, organisation, subject)
    found, wanted = {}, {}
    for method, path in incident_routes(client):
        found[method, path] = call(client, method, path, incident, who).status_code
        wanted[method, path] = expected(caller, method, path)
    assert found == wanted
    # What a front end is offered (`may_act`) is what the endpoints let through.
    state = client.app.state.services.ledger.incident(UUID(incident))  # type: ignore[attr-defined]
    actor = Actor(id=subject, role=role, organisation=organisation)
    offered = {name for name, action in ACTIONS.items() if may_act(actor, action, state)}
    if role in SEE_EVERY_INCIDENT and organisation != DEPARTMENT:
        offered = set()  # refused at the door: never given the incident to be offered anything
    granted = {
        path.rsplit("/", 1)[-1]
        for (m, path), status in found.items()
        if status == 409 and not path.endswith("/documents")
    }
    assert offered == granted
