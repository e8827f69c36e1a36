"""What each step recorded, for whoever may see the incident (GET /v1/incidents/{id}/record);
who must act on each obligation (`acted_by`); and the warning a decision owes before it leaves an
owed consultation late (`leaves_late`). Issue 21, items 5 and 6."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import OTHER, Auth, read_models_caught_up, report_body

pytestmark = pytest.mark.store


def reported(client: TestClient, auth: Auth, **overrides: Any) -> str:
    response = client.post("/v1/incidents", json=report_body(**overrides), headers=auth())
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def act(client: TestClient, auth: Auth, incident: str, command: str, **body: Any) -> None:
    version = client.get(f"/v1/incidents/{incident}", headers=auth()).json()["version"]
    response = client.post(
        f"/v1/incidents/{incident}/{command}",
        json={"expected_version": version, **body},
        headers=auth(),
    )
    assert response.status_code == 200, response.text


def test_the_record_shows_what_each_step_recorded_and_the_read_is_logged(
    client: TestClient, auth: Auth
) -> None:
    incident = reported(client, auth)
    act(client, auth, incident, "notifications", kind="police", recipient="VP", reference="PN-1")
    act(client, auth, incident, "response-plan", plan="Carer stood down; weekly check-ins.")

    found = client.get(f"/v1/incidents/{incident}/record", headers=auth()).json()["items"]

    assert [e["type"] for e in found] == [
        "Reported",
        "NotificationRecorded",
        "ResponsePlanRecorded",
    ]
    assert found[1]["data"] == {"kind": "police", "recipient": "VP", "reference": "PN-1"}
    assert found[1]["summary"] == "Notified police: VP"
    assert found[2]["data"]["plan"] == "Carer stood down; weekly check-ins."
    assert found[2]["actor"]["role"] == "incident_manager"
    assert "hash" not in found[2]["data"] and "command_id" not in found[2]["data"]
    read_models_caught_up(client)
    officer = auth("department_officer", "DFFH")
    log = client.get("/v1/access-log", params={"incident_id": incident}, headers=officer).json()
    assert "record" in [e["what"] for e in log["items"]]


def test_another_provider_named_on_it_never_sees_the_department_client_id(
    client: TestClient, auth: Auth
) -> None:
    client_with_id = {"ref": "client-1", "aboriginal": False, "department_client_id": "1234567"}
    incident = reported(client, auth, clients=[client_with_id], other_provider=OTHER)

    own = client.get(f"/v1/incidents/{incident}/record", headers=auth()).json()
    other = client.get(f"/v1/incidents/{incident}/record", headers=auth(org=OTHER)).json()

    assert "1234567" in str(own)
    assert "1234567" not in str(other)
    assert other["items"][0]["data"]["clients"] == [
        {"ref": "client-1", "aboriginal": False, "date_of_birth": None}
    ]


def test_the_record_is_refused_as_the_incident_is(client: TestClient, auth: Auth) -> None:
    incident = reported(client, auth)
    unseen = client.get(f"/v1/incidents/{incident}/record", headers=auth(org="Elsewhere"))
    regulator = client.get(f"/v1/incidents/{incident}/record", headers=auth("regulator", "ssr"))
    assert unseen.status_code == 404
    assert regulator.status_code == 403


def test_an_obligation_says_who_must_act_on_it(client: TestClient, auth: Auth) -> None:
    incident = reported(client, auth)
    shown = client.get(f"/v1/incidents/{incident}", headers=auth("reporter")).json()
    by_kind = {o["kind"]: o for o in shown["obligations"]}
    assert by_kind["investigation_or_review"]["acted_by"][0] == {
        "command": "investigation-report",
        "title": "Submit the investigation report and its recommendations.",
        "who": "the appointed investigator",
    }


def test_a_follow_up_decision_warns_while_the_consultation_before_it_is_owed(
    client: TestClient, auth: Auth
) -> None:
    incident = reported(client, auth, clients=[{"ref": "client-1", "aboriginal": True}])

    def follow_up() -> dict[str, Any]:
        actions = client.get(f"/v1/incidents/{incident}", headers=auth()).json()["next_actions"]
        return next(a for a in actions if a["command"] == "follow-up")

    assert follow_up()["leaves_late"] == ["aboriginal_consultation_follow_up"]
    act(
        client,
        auth,
        incident,
        "aboriginal-consultations",
        body="acsass",
        stage="follow_up",
        consulted="ACSASS North",
    )
    assert follow_up()["leaves_late"] == []


def test_no_warning_where_no_consultation_is_owed(client: TestClient, auth: Auth) -> None:
    incident = reported(client, auth)
    actions = client.get(f"/v1/incidents/{incident}", headers=auth()).json()["next_actions"]
    assert all(a["leaves_late"] == [] for a in actions)
