"""HTTP semantics front ends rely on: preconditions (RFC 9110), strict filters, freshness of
read-model answers, CORS."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.api.conftest import Auth, Clock, report_body

pytestmark = pytest.mark.store
PROBLEM = "application/problem+json"
POLICE = {"kind": "police", "recipient": "Victoria Police"}


def report(client: TestClient, auth: Auth) -> dict[str, Any]:
    response = client.post("/v1/incidents", json=report_body(), headers=auth())
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def notify(client: TestClient, auth: Auth, incident: str, body: dict[str, Any]) -> Any:
    return client.post(f"/v1/incidents/{incident}/notifications", json=body, headers=auth())


def test_a_stale_if_match_is_412_and_a_stale_body_version_409(
    client: TestClient, auth: Auth
) -> None:
    incident = report(client, auth)["id"]
    assert notify(client, auth, incident, {**POLICE, "expected_version": 1}).status_code == 200

    stale_header = client.post(
        f"/v1/incidents/{incident}/notifications", json=POLICE, headers=auth(**{"If-Match": '"1"'})
    )
    stale_body = notify(client, auth, incident, {**POLICE, "expected_version": 1})

    assert stale_header.status_code == 412
    assert stale_header.headers["content-type"] == PROBLEM
    assert stale_header.json()["type"].endswith("/problems/precondition-failed")
    assert stale_header.json()["current_version"] == 2
    assert stale_body.status_code == 409
    assert stale_body.json()["current_version"] == 2
    fresh = client.post(
        f"/v1/incidents/{incident}/notifications", json=POLICE, headers=auth(**{"If-Match": '"2"'})
    )
    assert fresh.status_code == 200 and fresh.headers["ETag"] == '"3"'


@pytest.mark.parametrize("tag", ['W/"1"', 'W/"2"'])
def test_a_weak_if_match_never_matches_and_records_nothing(
    client: TestClient, auth: Auth, tag: str
) -> None:
    incident = report(client, auth)["id"]

    weak = client.post(
        f"/v1/incidents/{incident}/notifications", json=POLICE, headers=auth(**{"If-Match": tag})
    )
    weak_with_body = client.post(
        f"/v1/incidents/{incident}/notifications",
        json={**POLICE, "expected_version": 1},
        headers=auth(**{"If-Match": tag}),
    )

    assert weak.status_code == weak_with_body.status_code == 412, weak.text
    assert weak.json()["type"].endswith("/problems/precondition-failed")
    assert client.get(f"/v1/incidents/{incident}", headers=auth()).json()["version"] == 1


def test_if_match_and_expected_version_that_disagree_are_400_and_neither_is_428(
    client: TestClient, auth: Auth
) -> None:
    incident = report(client, auth)["id"]

    both = client.post(
        f"/v1/incidents/{incident}/notifications",
        json={**POLICE, "expected_version": 1},
        headers=auth(**{"If-Match": '"2"'}),
    )
    neither = notify(client, auth, incident, POLICE)
    agreeing = client.post(
        f"/v1/incidents/{incident}/notifications",
        json={**POLICE, "expected_version": 1},
        headers=auth(**{"If-Match": '"1"'}),
    )

    assert both.status_code == 400 and both.headers["content-type"] == PROBLEM
    assert both.json()["type"].endswith("/problems/version-mismatch")
    assert both.json()["errors"][0]["field"] == "If-Match"
    assert neither.status_code == 428
    assert agreeing.status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=closd", "query.status"),
        ("type=Bruising", "query.type"),
        ("impact=huge", "query.impact"),
        ("status=closed&status=reported", "status"),
        ("sort=reported_at", "query.sort"),  # sort takes newest or oldest
        ("order=oldest", "order"),
        ("Status=closed", "Status"),
    ],
)
def test_an_unknown_or_repeated_filter_is_422_not_an_empty_list(
    client: TestClient, auth: Auth, query: str, field: str
) -> None:
    response = client.get(f"/v1/incidents?{query}", headers=auth())

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == field


def test_worklist_and_replay_refuse_unknown_parameters_too(client: TestClient, auth: Auth) -> None:
    incident = report(client, auth)["id"]

    assert client.get("/v1/obligations?status=late", headers=auth()).status_code == 422
    assert client.get("/v1/obligations?state=open", headers=auth()).status_code == 422
    assert (
        client.get(f"/v1/incidents/{incident}/history?v=1", headers=auth("auditor")).status_code
        == 422
    )
    assert client.get("/v1/obligations?status=overdue", headers=auth()).status_code == 200


def test_min_position_not_reached_in_time_says_so(
    client: TestClient, auth: Auth, clock: Clock
) -> None:
    written = report(client, auth)
    reached = client.get(f"/v1/incidents?min_position={written['position']}", headers=auth())
    services = client.app.state.services  # type: ignore[attr-defined]
    services.read_models.stop()  # the read models fall behind the next write
    services.settings.read_your_writes_wait_seconds = 0.05
    behind = report(client, auth)

    late = client.get(f"/v1/incidents?min_position={behind['position']}", headers=auth())

    assert reached.status_code == 200
    assert reached.headers["X-Projection-Reached"] == "true"
    assert int(reached.headers["X-Projection-Position"]) >= written["position"]
    assert late.status_code == 200
    assert late.headers["X-Projection-Reached"] == "false"
    assert int(late.headers["X-Projection-Position"]) < behind["position"]
    assert behind["id"] not in [i["id"] for i in late.json()["items"]]
    plain = client.get("/v1/incidents", headers=auth())
    assert plain.headers["X-Projection-Reached"] == "true"


def test_cors_is_off_by_default_and_exposes_the_contract_headers_when_set(
    settings: Settings, clock: Clock, auth: Auth
) -> None:
    origin = {"Origin": "https://front.example"}
    with TestClient(create_app(settings, clock=clock)) as plain:
        assert "access-control-allow-origin" not in plain.get("/healthz", headers=origin).headers

    allowed = settings.model_copy(update={"cors_origins": "https://front.example"})
    with TestClient(create_app(allowed, clock=clock)) as cors:
        preflight = cors.options(
            "/v1/incidents",
            headers={
                **origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, if-match, idempotency-key",
            },
        )
        answer = cors.post("/v1/incidents", json=report_body(), headers={**auth(), **origin})
        elsewhere = cors.get("/healthz", headers={"Origin": "https://evil.example"})

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://front.example"
    assert answer.status_code == 201
    exposed = {
        h.strip().lower() for h in answer.headers["access-control-expose-headers"].split(",")
    }
    assert {"etag", "location", "x-projection-position", "x-projection-reached"} <= set(exposed)
    assert "access-control-allow-origin" not in elsewhere.headers
