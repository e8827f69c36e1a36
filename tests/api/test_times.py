"""Honest times over HTTP: backdating and post-dating refused, backdating within the rule shown."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Auth, Clock, read_models_caught_up, report_body
from tests.api.test_contract import act, report

pytestmark = pytest.mark.store
INVESTIGATOR = "inv-7"
OUTCOME = {
    "subject_ref": "carer-1",
    "incident_type": "Physical abuse",
    "finding": "substantiated",
    "rationale": "Consistent accounts; photographs.",
}


def as_investigator(auth: Auth) -> dict[str, str]:
    return auth("investigator", sub=INVESTIGATOR)


def step(
    client: TestClient, headers: dict[str, str], incident: str, action: str, **body: Any
) -> Any:
    current = client.get(f"/v1/incidents/{incident}", headers=headers).json()["version"]
    return client.post(
        f"/v1/incidents/{incident}/{action}",
        json={"expected_version": current, **body},
        headers=headers,
    )


def investigated(client: TestClient, auth: Auth) -> str:
    """A major physical abuse by a carer, investigated to an outcome, report not submitted."""
    incident: str = report(client, auth)["id"]
    manager, investigator = auth(), as_investigator(auth)
    for action, body in [
        ("notifications", {"kind": "police", "recipient": "Victoria Police"}),
        ("follow-up", {"kind": "investigation", "reason": "abuse by a carer"}),
        (
            "appoint-investigator",
            {"investigator_ref": INVESTIGATOR, "independence_declared": True, "declaration": "d"},
        ),
    ]:
        assert step(client, manager, incident, action, **body).status_code == 200
    for action, body in [
        ("investigation-plan", {"plan": "Interviews."}),
        ("serve-allegations", {"subject_refs": ["carer-1"], "method": "email"}),
        ("subject-responses", {"subject_ref": "carer-1", "response": "Denied."}),
        ("outcomes", {"outcomes": [OUTCOME]}),
    ]:
        answer = step(client, investigator, incident, action, **body)
        assert answer.status_code == 200, answer.text
    return incident


def submit_report(client: TestClient, auth: Auth, incident: str, **extra: Any) -> Any:
    return step(
        client,
        as_investigator(auth),
        incident,
        "investigation-report",
        summary="Findings and reasons.",
        recommendations=[{"id": "R1", "text": "Training."}],
        **extra,
    )


def test_a_report_backdated_to_2000_on_an_overdue_incident_is_refused_and_stays_overdue(
    client: TestClient, auth: Auth, clock: Clock
) -> None:
    incident = investigated(client, auth)
    clock.advance(days=30)  # the 28-day deadline has passed

    answer = submit_report(client, auth, incident, effective_at="2000-01-01T00:00:00Z")

    assert answer.status_code == 422
    assert answer.json()["rule"] == "time.effective-before-aware"
    read_models_caught_up(client)
    overdue = client.get("/v1/obligations?status=overdue", headers=auth()).json()["items"]
    assert "investigation_or_review" in {o["kind"] for o in overdue}
    assert client.get("/v1/statistics", headers=auth()).json()["overdue_now"] == 1


def test_a_client_voice_dated_five_years_ahead_is_refused(
    client: TestClient, auth: Auth, clock: Clock
) -> None:
    incident = report(client, auth)["id"]
    ahead = (clock.now + timedelta(days=5 * 365)).isoformat()

    answer = act(
        client,
        auth,
        incident,
        "client-voice",
        1,
        client_ref="client-1",
        said="s",
        effective_at=ahead,
    )

    assert answer.status_code == 422
    problem = answer.json()
    assert problem["rule"] == "time.effective-in-future"
    assert problem["type"].endswith("/time.effective-in-future")


def test_a_time_within_the_clock_skew_is_accepted(
    client: TestClient, auth: Auth, clock: Clock
) -> None:
    incident = report(client, auth)["id"]
    slightly_ahead = (clock.now + timedelta(seconds=30)).isoformat()

    answer = act(
        client,
        auth,
        incident,
        "client-voice",
        1,
        client_ref="client-1",
        said="s",
        effective_at=slightly_ahead,
    )

    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"occurred_at": "9999-12-31T23:00:00Z"}, "details.occurred_at"),
        ({"occurred_at": "0001-01-01T00:00:00Z"}, "details.occurred_at"),
        ({"became_aware_at": "9999-12-31T23:00:00+00:00"}, "details.became_aware_at"),
        (
            {
                "occurred_at": None,
                "historical": True,
                "occurred_between": ["0001-01-01T00:00:00Z", "2000-01-01T00:00:00Z"],
            },
            "details.occurred_between.start",
        ),
    ],
)
def test_a_report_instant_no_view_can_show_in_melbourne_is_out_of_range(
    client: TestClient, auth: Auth, overrides: dict[str, Any], field: str
) -> None:
    answer = client.post("/v1/incidents", json=report_body(**overrides), headers=auth())

    assert answer.status_code == 422, answer.text
    assert answer.json()["rule"] == "time.out-of-range"
    assert field in answer.text


@pytest.mark.parametrize(
    ("action", "body"),
    [
        (
            "notifications",
            {"kind": "police", "recipient": "VP", "effective_at": "9999-12-31T23:00Z"},
        ),
        (
            "extend",
            {
                "obligation_kind": "investigation_or_review",
                "new_due": "9999-12-31T23:00:00Z",
                "approved_by": "director",
                "reason": "r",
            },
        ),
        ("amend", {"changes": {"occurred_at": "0001-01-01T00:00:00+00:00"}, "reason": "r"}),
    ],
)
def test_a_command_instant_out_of_range_is_refused(
    client: TestClient, auth: Auth, action: str, body: dict[str, Any]
) -> None:
    incident = report(client, auth)["id"]

    answer = act(client, auth, incident, action, 1, **body)

    assert answer.status_code == 422, answer.text
    assert answer.json()["rule"] == "time.out-of-range"


def test_a_backdated_step_within_the_rule_shows_both_instants_everywhere(
    client: TestClient, auth: Auth, clock: Clock
) -> None:
    incident = investigated(client, auth)
    clock.advance(days=10)
    backdated = clock.now - timedelta(days=5)

    answer = submit_report(client, auth, incident, effective_at=backdated.isoformat())

    assert answer.status_code == 200, answer.text
    read_models_caught_up(client)
    worklist = client.get("/v1/obligations?status=met", headers=auth()).json()["items"]
    met = next(o for o in worklist if o["kind"] == "investigation_or_review")
    assert met["recorded_late"] is True
    assert met["met_at"].startswith(backdated.strftime("%Y-%m-%dT%H:%M"))
    assert met["met_recorded_at"].startswith(clock.now.strftime("%Y-%m-%dT%H:%M"))
    obligations = client.get(f"/v1/incidents/{incident}", headers=auth()).json()["obligations"]
    own = next(o for o in obligations if o["kind"] == "investigation_or_review")
    assert own["recorded_late"] is True and own["met_recorded_at"]
    trail = client.get(f"/v1/incidents/{incident}/audit-trail", headers=auth()).json()["items"]
    submitted = next(t for t in trail if t["event_type"] == "InvestigationReportSubmitted")
    assert submitted["recorded_late"] is True and submitted["effective_at"]
    assert not any(t["recorded_late"] for t in trail if t is not submitted)
    checks = client.get(f"/v1/incidents/{incident}/procedural-fairness", headers=auth()).json()
    timeframe = next(c for c in checks["checks"] if c["check"] == "completed_within_28_days")
    assert timeframe["recorded_late"] is True
    assert timeframe["effective_at"] and timeframe["recorded_at"]


def test_state_as_of_an_instant_later_than_now_is_a_422(
    client: TestClient, auth: Auth, clock: Clock
) -> None:
    incident = report(client, auth)["id"]
    auditor = auth("auditor", org="DFFH")
    later = (clock.now + timedelta(hours=1)).isoformat().replace("+00:00", "Z")

    answer = client.get(f"/v1/incidents/{incident}/as-of", params={"at": later}, headers=auditor)
    diff = client.get(
        f"/v1/incidents/{incident}/diff", params={"a": 1, "b": later}, headers=auditor
    )
    now = client.get(
        f"/v1/incidents/{incident}/as-of",
        params={"at": clock.now.isoformat()},
        headers=auditor,
    )

    assert answer.status_code == 422 and answer.json()["rule"] == "time.as-of-in-future"
    assert diff.status_code == 422 and diff.json()["rule"] == "time.as-of-in-future"
    assert now.status_code == 200, now.text


OUT_OF_RANGE_INSTANTS = [
    "0001-01-02T00:00Z",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:00:00-14:00",
    "1899-12-31T23:59:59Z",
    "2200-01-01T00:00:00Z",
]


def instant_query_parameters(client: TestClient) -> list[tuple[str, str]]:
    """Every (path, parameter) of the API whose query parameter is an instant (or may be one)."""
    found = []
    for path, operations in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        for parameter in operations.get("get", {}).get("parameters", []):
            schema = parameter["schema"]
            kinds = [schema, *schema.get("anyOf", [])]
            if parameter["in"] == "query" and any(k.get("format") == "date-time" for k in kinds):
                found.append((path, parameter["name"]))
    return found


@pytest.mark.parametrize("moment", OUT_OF_RANGE_INSTANTS)
def test_every_instant_in_a_query_parameter_is_held_to_1900_to_2199(
    client: TestClient, auth: Auth, moment: str
) -> None:
    incident = report(client, auth)["id"]
    officer = auth("department_officer", org="DFFH")
    given = {
        "/v1/patterns/clients": {"department_client_id": "1234567", "window_days": "36500"},
        "/v1/incidents/{incident_id}/as-of": {},
    }
    parameters = instant_query_parameters(client)
    assert sorted(parameters) == [
        ("/v1/incidents/{incident_id}/as-of", "at"),
        ("/v1/patterns/clients", "until"),
    ], "a new instant query parameter: add it here"
    asked = [
        (path.replace("{incident_id}", incident), {**given[path], name: moment})
        for path, name in parameters
    ]
    asked += [(f"/v1/incidents/{incident}/diff", {"a": "1", "b": moment})]
    asked += [(f"/v1/incidents/{incident}/diff", {"a": moment, "b": "1"})]

    for path, params in asked:
        answer = client.get(path, params=params, headers=officer)

        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["rule"] == "time.out-of-range", (path, answer.text)


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-14:00"])
def test_a_report_instant_whose_utc_lies_outside_any_year_is_out_of_range(
    client: TestClient, auth: Auth, moment: str
) -> None:
    answer = client.post("/v1/incidents", json=report_body(occurred_at=moment), headers=auth())

    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "occurred_at"
