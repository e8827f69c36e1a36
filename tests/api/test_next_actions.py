"""The incident resource says what this caller may do next, and which command meets each
obligation: from the authorisation functions the commands use and the domain's stage rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import authorisation as authz
from api.command_docs import refusals
from api.examples import EXAMPLES
from api.problems import Problem
from api.resources import IncidentOut
from domain import next_steps
from domain.errors import PolicyViolation
from domain.values import ScopeExclusion
from domain.views import incident_state
from tests.api.conftest import Auth, report_body
from tests.factories import (
    INVESTIGATOR,
    MANAGER,
    Story,
    allegations_served,
    major_abuse_by_carer,
    outcome,
    reported,
    under_investigation,
)

APPOINT = {
    "investigator_ref": "investigator-7",
    "independence_declared": True,
    "declaration": "No relationship with anyone involved.",
}


def shown(client: TestClient, headers: dict[str, str], incident: str) -> dict[str, Any]:
    response = client.get(f"/v1/incidents/{incident}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def commands(body: dict[str, Any]) -> list[str]:
    return [a["command"] for a in body["next_actions"]]


def act(client: TestClient, auth: Auth, incident: str, name: str, **body: Any) -> int:
    version = shown(client, auth(), incident)["version"]
    response = client.post(
        f"/v1/incidents/{incident}/{name}",
        json={"expected_version": version, **body},
        headers=auth(),
    )
    assert response.status_code == 200, response.text
    return int(response.json()["version"])


@pytest.fixture
def incident(client: TestClient, auth: Auth) -> str:
    response = client.post("/v1/incidents", json=report_body(), headers=auth())
    assert response.status_code == 201
    return str(response.json()["id"])


@pytest.mark.store
def test_each_caller_is_offered_what_its_role_and_the_stage_allow(
    client: TestClient, auth: Auth, incident: str
) -> None:
    manager = shown(client, auth(), incident)
    reporter = shown(client, auth("reporter"), incident)
    investigator = shown(client, auth("investigator"), incident)
    officer = shown(client, auth("department_officer"), incident)

    assert {"amend", "client-voice", "notifications", "aboriginal-consultations"} <= set(
        commands(reporter)
    )
    assert not {"follow-up", "close", "withdraw", "investigation-plan"} & set(commands(reporter))
    # An investigation step waits for an investigation; closing for the required steps.
    assert "appoint-investigator" not in commands(manager)
    assert {"follow-up", "notifications", "withdraw", "extend"} <= set(commands(manager))
    assert not {"close", "reopen", "outcomes"} & set(commands(manager))
    assert commands(investigator) == ["client-voice", "aboriginal-consultations"]
    assert "department-reviews" in commands(officer)
    assert shown(client, auth("auditor"), incident)["next_actions"] == []
    notifications = next(a for a in manager["next_actions"] if a["command"] == "notifications")
    assert notifications == {
        "command": "notifications",
        "method": "POST",
        "href": f"/v1/incidents/{incident}/notifications",
        "title": "Record that someone outside the provider was notified.",
        "schema": "NotificationIn",
        "meets": ["police_contact"],
        "leaves_late": [],
        "records": "NotificationRecorded",  # the event: a front end shows when it was last taken
    }


@pytest.mark.store
def test_obligations_name_the_commands_that_meet_them(
    client: TestClient, auth: Auth, incident: str
) -> None:
    met_by = {o["kind"]: o["met_by"] for o in shown(client, auth(), incident)["obligations"]}
    listed = client.get(f"/v1/incidents/{incident}/obligations", headers=auth()).json()

    assert met_by["incident_report"] == ["report"]
    assert met_by["police_contact"] == ["notifications"]
    assert met_by["investigation_or_review"] == ["investigation-report", "incident-review"]
    assert met_by["response_plan"] == ["response-plan"]
    assert {o["kind"]: o["met_by"] for o in listed["obligations"]} == met_by


@pytest.mark.store
def test_investigation_steps_are_offered_to_the_appointed_investigator_only(
    client: TestClient, auth: Auth, incident: str
) -> None:
    act(client, auth, incident, "notifications", kind="police", recipient="Victoria Police")
    act(client, auth, incident, "follow-up", kind="investigation", reason="Major impact abuse.")
    assert "appoint-investigator" in commands(shown(client, auth(), incident))
    act(client, auth, incident, "appoint-investigator", **APPOINT)

    appointed = shown(client, auth("investigator", sub="investigator-7"), incident)
    other = shown(client, auth("investigator", sub="investigator-8"), incident)

    assert {"investigation-plan", "serve-allegations", "evidence"} <= set(commands(appointed))
    # No outcome before service; no sufficient-evidence rationale without evidence.
    assert not {"outcomes", "sufficient-evidence-rationale", "subject-responses"} & set(
        commands(appointed)
    )
    serve = next(a for a in appointed["next_actions"] if a["command"] == "serve-allegations")
    assert serve["meets"] == ["allegations_served"]
    assert not {"investigation-plan", "serve-allegations"} & set(commands(other))
    assert "follow-up" not in commands(shown(client, auth(), incident))  # under way


@pytest.mark.store
def test_a_closed_incident_offers_reopen_and_corrections_to_its_manager(
    client: TestClient, auth: Auth
) -> None:
    body = report_body(
        impact="non_major",
        types=["Medication error"],
        subjects_of_allegation=[],
        regulator_category="none",
    )
    incident = client.post("/v1/incidents", json=body, headers=auth()).json()["id"]
    before = shown(client, auth(), incident)
    assert "close" in commands(before)  # only waivable steps are open

    waived = {
        o["kind"]: "The error had no effect on the client."
        for o in before["obligations"]
        if o["status"] in ("open", "overdue")
    }
    assert waived and all(o["waivable"] for o in before["obligations"] if o["kind"] in waived)
    act(client, auth, incident, "close", reason="Local response done.", not_required=waived)

    assert commands(shown(client, auth(), incident)) == [
        "reopen",
        "corrections",
        "responsible-organisation",
    ]
    assert commands(shown(client, auth("reporter"), incident)) == []


@pytest.mark.store
def test_next_actions_ask_the_commands_own_authorisation_function(
    client: TestClient, auth: Auth, incident: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse_everything(actor: object, action: authz.Action, incident: object) -> None:
        raise Problem(403, "forbidden", "Forbidden", "no")

    monkeypatch.setattr(authz, "require_may_act", refuse_everything)

    assert shown(client, auth(), incident)["next_actions"] == []


def _stories() -> dict[str, Story]:
    served = allegations_served()
    recorded = (
        allegations_served()
        .do(
            "record_subject_response",
            subject_ref="carer-1",
            response="I held the client's arm.",
            actor=INVESTIGATOR,
        )
        .do("record_outcome", outcomes=[outcome()], actor=INVESTIGATOR)
    )
    return {
        "reported": major_abuse_by_carer(),
        "non-major": reported(),
        "under investigation": under_investigation(),
        "served": served,
        "outcome recorded": recorded,
        "closed": reported()
        .do("record_response_plan", plan="Local response.")
        .do("close", reason="Done."),
        "withdrawn": reported()
        .do(
            "assess_scope",
            in_scope=False,
            exclusion=ScopeExclusion.ILLNESS,
            reason="The client has the flu; no harm in care.",
        )
        .do("withdraw", reason="Out of scope: illness."),
    }


@pytest.mark.parametrize("stage", list(_stories()))
def test_a_command_the_stage_rules_out_is_refused_by_the_same_rule(stage: str) -> None:
    """The stage preconditions are the command's own rules: where `next_actions` leaves a
    command out, issuing it (with its documented example) is refused with that very rule."""
    story = _stories()[stage]
    for name, action in authz.ACTIONS.items():
        actor = INVESTIGATOR if action.appointed_investigator else MANAGER
        obligations = story.obligations()
        refused = next_steps.why_not(
            story.incident, action.command, actor_id=actor.id, obligations=obligations
        )
        if refused is None:
            continue
        assert refused.rule_id in refusals(action.command), (name, refused.rule_id)
        args = action.body.model_validate(EXAMPLES[action.body.__name__]).command_args()
        if action.command in ("close", "extend"):
            args["obligations"] = obligations
        incident = copy.deepcopy(story.incident)
        with pytest.raises(PolicyViolation) as raised:
            getattr(incident, action.command)(stamp=story.stamp(actor), **args)
        assert raised.value.rule_id == refused.rule_id, (stage, name)


def test_every_field_of_the_incident_resource_is_declared() -> None:
    """A field the state gains is declared in the response model (so in `/openapi.json`)."""
    for story in _stories().values():
        assert set(incident_state(story.incident)) <= set(IncidentOut.model_fields)
