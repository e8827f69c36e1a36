"""The HTTP contract front ends are written against: each endpoint and each error status."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from api.settings import Settings
from tests.api.conftest import OTHER, OWN, Auth, Clock, read_models_caught_up, report_body

pytestmark = pytest.mark.store
PROBLEM = "application/problem+json"


def report(client: TestClient, auth: Auth, **overrides: Any) -> dict[str, Any]:
    response = client.post("/v1/incidents", json=report_body(**overrides), headers=auth())
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def act(
    client: TestClient,
    auth: Auth,
    incident: str,
    action: str,
    version: int,
    role: str = "incident_manager",
    **body: Any,
) -> Any:
    return client.post(
        f"/v1/incidents/{incident}/{action}",
        json={"expected_version": version, **body},
        headers=auth(role),
    )


def test_report_answers_201_with_location_version_and_event(client: TestClient, auth: Auth) -> None:
    response = client.post("/v1/incidents", json=report_body(), headers=auth())

    assert response.status_code == 201
    body = response.json()
    assert response.headers["Location"] == f"/v1/incidents/{body['id']}"
    assert body["version"] == 1 and body["event"]["type"] == "Reported"
    assert body["event"]["reporting_organisation"] == OWN
    assert body["event"]["details"]["became_aware_at"] == "2025-03-03T23:00:00Z"


def test_a_command_answers_with_the_new_version_event_and_position(
    client: TestClient, auth: Auth
) -> None:
    incident = report(client, auth)["id"]

    response = act(
        client,
        auth,
        incident,
        "notifications",
        1,
        kind="police",
        recipient="Victoria Police",
        effective_at="2025-03-04T00:30:00Z",
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 2 and body["event"]["type"] == "NotificationRecorded"
    assert body["event"]["effective_at"] == "2025-03-04T00:30:00Z"
    assert body["position"] >= 2
    assert response.headers["ETag"] == '"2"'


def test_get_incident_has_state_obligations_and_etag(client: TestClient, auth: Auth) -> None:
    incident = report(client, auth)["id"]

    response = client.get(f"/v1/incidents/{incident}", headers=auth())

    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    body = response.json()
    assert (body["version"], body["stage"], body["types"], body["impact"]) == (
        1,
        "reported",
        ["Physical abuse"],
        "major",
    )
    assert {o["kind"] for o in body["obligations"]} >= {"incident_report", "police_contact"}
    assert (
        client.get(f"/v1/incidents/{incident}/obligations", headers=auth()).json()["version"] == 1
    )


def test_list_filters_and_pages_and_reads_its_own_writes(client: TestClient, auth: Auth) -> None:
    ids = [report(client, auth)["id"] for _ in range(3)]
    last = report(client, auth, impact="major", types=["Neglect"])

    listed = client.get(
        f"/v1/incidents?limit=2&min_position={last['position']}", headers=auth()
    ).json()
    more = client.get(
        f"/v1/incidents?limit=2&cursor={listed['next_cursor']}", headers=auth()
    ).json()
    neglect = client.get("/v1/incidents?type=Neglect", headers=auth()).json()

    assert len(listed["items"]) == 2 and len(more["items"]) == 2
    assert {i["id"] for i in listed["items"] + more["items"]} == {*ids, last["id"]}
    assert [i["id"] for i in neglect["items"]] == [last["id"]]
    assert client.get("/v1/incidents?overdue=true", headers=auth()).json()["items"] == []


def test_worklist_shows_overdue_obligations_once_the_clock_passes_them(
    client: TestClient, auth: Auth, clock: Clock
) -> None:
    report(client, auth)
    read_models_caught_up(client)
    clock.advance(days=30)

    overdue = client.get("/v1/obligations?status=overdue", headers=auth()).json()["items"]

    assert [o["kind"] for o in overdue] == ["investigation_or_review"]
    assert (
        client.get(
            f"/v1/obligations?organisation={OTHER}", headers=auth("department_officer")
        ).json()["items"]
        == []
    )


def test_audit_trail_fairness_statistics_and_access_log(client: TestClient, auth: Auth) -> None:
    incident = report(client, auth)["id"]
    client.get(f"/v1/incidents/{incident}", headers=auth())
    read_models_caught_up(client)

    trail = client.get(f"/v1/incidents/{incident}/audit-trail", headers=auth()).json()
    fairness = client.get(f"/v1/incidents/{incident}/procedural-fairness", headers=auth())
    stats = client.get("/v1/statistics", headers=auth()).json()
    log = client.get(f"/v1/access-log?incident_id={incident}", headers=auth("auditor")).json()

    assert [t["event_type"] for t in trail["items"]] == ["Reported"]
    assert fairness.status_code == 200 and fairness.json()["checks"] == []
    assert stats["incidents"] == 1
    assert {e["what"] for e in log["items"]} >= {"incident", "audit-trail"}
    assert client.get("/v1/access-log", headers=auth()).status_code == 403


def test_replay_endpoints_serve_auditors(client: TestClient, auth: Auth) -> None:
    incident = report(client, auth)["id"]
    act(client, auth, incident, "reclassify", 1, regulator_category="critical", reason="ICU")
    auditor = auth("auditor", org="DFFH")

    history = client.get(f"/v1/incidents/{incident}/history", headers=auditor)
    as_of = client.get(f"/v1/incidents/{incident}/as-of?version=1", headers=auditor)
    diff = client.get(f"/v1/incidents/{incident}/diff?a=1&b=2", headers=auditor)
    verify = client.get(f"/v1/incidents/{incident}/verify", headers=auditor)
    export = client.get(f"/v1/incidents/{incident}/export", headers=auditor)

    assert [e["type"] for e in history.json()["events"]] == ["Reported", "Reclassified"]
    assert as_of.json()["state"]["regulator_category"] == "notifiable"
    assert any(c["field"] == "regulator_category" for c in diff.json()["changes"])
    assert verify.json()["ok"] is True
    assert export.headers["content-type"] == "application/zip" and export.content[:2] == b"PK"
    assert client.get(f"/v1/incidents/{incident}/history", headers=auth()).status_code == 403
    bad = client.get(f"/v1/incidents/{incident}/as-of?at=yesterday", headers=auditor)
    assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM


def test_regulators_read_their_own_feed_and_nothing_else(client: TestClient, auth: Auth) -> None:
    report(client, auth)
    read_models_caught_up(client)
    ssr = auth("regulator", org="SSR")

    feed = client.get("/v1/feeds/ssr", headers=ssr)

    assert feed.status_code == 200 and feed.json()["items"][0]["specversion"] == "1.0"
    assert client.get("/v1/feeds/ccyp", headers=ssr).status_code == 403
    assert client.get("/v1/incidents", headers=ssr).status_code == 403
    # The feeds are a closed set (an enum in the schema): an unknown name is a 422 naming it.
    unknown = client.get("/v1/feeds/nobody", headers=ssr)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "path.regulator"


def test_operations_endpoints(client: TestClient, auth: Auth) -> None:
    report(client, auth)

    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    metrics = client.get("/metrics").text

    assert ready["status"] == "ready" and len(ready["read_models"]) == 8
    assert "cims_events_appended_total 1.0" in metrics
    assert 'cims_http_requests_total{method="POST",route="/v1/incidents",status="201"}' in metrics
    assert "cims_projection_lag_events" in metrics
    assert client.get("/openapi.json").json()["info"]["title"] == "CIMS Ledger"
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "expired", "bad-signature"])
def test_no_expired_or_forged_token_is_401(
    client: TestClient, settings: Settings, header: str | None
) -> None:
    claims = {"sub": "x", "role": "incident_manager", "org": OWN}
    if header == "expired":
        header = "Bearer " + jwt.encode(
            {**claims, "exp": 1}, settings.jwt_secret or "", algorithm="HS256"
        )
    elif header == "bad-signature":
        header = "Bearer " + jwt.encode(
            {**claims, "exp": 4102444800}, "another-secret-" * 3, algorithm="HS256"
        )
    response = client.get("/v1/incidents", headers={"Authorization": header} if header else {})

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/unauthenticated")


def test_unknown_or_invisible_incident_is_404(client: TestClient, auth: Auth) -> None:
    incident = report(client, auth)["id"]

    unknown = client.get("/v1/incidents/7b0c8f52-4a4e-4c8e-9a4e-1d1f0a7a1b11", headers=auth())
    elsewhere = client.get(f"/v1/incidents/{incident}", headers=auth(org=OTHER))

    assert unknown.status_code == elsewhere.status_code == 404
    assert elsewhere.headers["content-type"] == PROBLEM


def test_a_stale_version_is_409_naming_the_current_one(client: TestClient, auth: Auth) -> None:
    incident = report(client, auth)["id"]
    act(client, auth, incident, "notifications", 1, kind="police", recipient="VP")

    stale = act(client, auth, incident, "notifications", 1, kind="guardian", recipient="Mum")

    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert stale.headers["content-type"] == PROBLEM


def test_validation_errors_list_each_field(client: TestClient, auth: Auth) -> None:
    body = report_body(types=["Bad weather"], impact="huge", unknown_field=1)
    del body["location"]

    response = client.post("/v1/incidents", json=body, headers=auth())

    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"types.0", "impact", "location", "unknown_field"} <= fields


def test_a_policy_refusal_is_422_with_the_rule(client: TestClient, auth: Auth) -> None:
    response = client.post("/v1/incidents", json=report_body(impact="non_major"), headers=auth())

    assert response.status_code == 422
    assert response.json()["rule"] == "classification.mandatory-major"
    assert response.json()["type"].endswith("/classification.mandatory-major")
    assert response.json()["errors"][0]["field"] == "impact"


def test_a_command_without_an_expected_version_is_428_and_if_match_works(
    client: TestClient, auth: Auth
) -> None:
    incident = report(client, auth)["id"]
    url = f"/v1/incidents/{incident}/notifications"
    body = {"kind": "police", "recipient": "VP"}

    missing = client.post(url, json=body, headers=auth())
    with_if_match = client.post(url, json=body, headers=auth(**{"If-Match": '"1"'}))

    assert missing.status_code == 428
    assert with_if_match.status_code == 200 and with_if_match.json()["version"] == 2


def test_a_repeated_key_returns_the_first_response_and_records_nothing_new(
    client: TestClient, auth: Auth
) -> None:
    headers = auth(**{"Idempotency-Key": "report-1"})
    first = client.post("/v1/incidents", json=report_body(), headers=headers)
    again = client.post("/v1/incidents", json=report_body(), headers=headers)
    different = client.post(
        "/v1/incidents", json=report_body(location="Elsewhere"), headers=headers
    )

    assert again.status_code == 201 and again.json() == first.json()
    assert different.status_code == 422
    assert different.json()["errors"][0]["rule"] == "idempotency.key-reused"
    read_models_caught_up(client)
    assert len(client.get("/v1/incidents", headers=auth()).json()["items"]) == 1


def test_two_writers_on_one_version_one_wins_the_other_gets_409(
    client: TestClient, auth: Auth
) -> None:
    incident = report(client, auth)["id"]
    results: list[int] = []
    barrier = threading.Barrier(2)

    def write(kind: str) -> None:
        barrier.wait()
        results.append(
            act(client, auth, incident, "notifications", 1, kind=kind, recipient="r").status_code
        )

    threads = [threading.Thread(target=write, args=(k,)) for k in ("police", "guardian")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(results) == [200, 409]
    history = client.get(f"/v1/incidents/{incident}/history", headers=auth("auditor", "DFFH"))
    assert [e["version"] for e in history.json()["events"]] == [1, 2]


def test_oversized_deep_and_non_utf8_bodies_are_clear_4xx(client: TestClient, auth: Auth) -> None:
    headers = {**auth(), "Content-Type": "application/json"}
    big = client.post(
        "/v1/incidents", content=b'{"x":"' + b"a" * (1024 * 1024 + 1) + b'"}', headers=headers
    )
    deep = client.post("/v1/incidents", content=b"[" * 5000 + b"]" * 5000, headers=headers)
    latin = client.post(
        "/v1/incidents", content='{"location": "Café"}'.encode("latin-1"), headers=headers
    )

    assert (big.status_code, deep.status_code, latin.status_code) == (413, 400, 400)
    assert all(r.headers["content-type"] == PROBLEM for r in (big, deep, latin))


def test_effective_time_in_the_future_is_refused(
    client: TestClient, auth: Auth, clock: Clock
) -> None:
    incident = report(client, auth)["id"]
    future = (clock.now + timedelta(days=1)).isoformat()

    response = act(
        client,
        auth,
        incident,
        "notifications",
        1,
        kind="police",
        recipient="VP",
        effective_at=future,
    )

    assert response.status_code == 422 and response.json()["rule"] == "time.effective-in-future"


def test_a_version_beyond_the_stores_integers_is_a_422_not_a_crash(
    client: TestClient, auth: Auth
) -> None:
    # Found by schemathesis: SQLite cannot bind an integer this large.
    incident = report(client, auth)["id"]

    body = act(client, auth, incident, "reopen", 16490020745326362415, reason="r")
    header = client.post(
        f"/v1/incidents/{incident}/reopen",
        json={"reason": "r"},
        headers=auth(**{"If-Match": '"16490020745326362415"'}),
    )
    query = client.get(
        f"/v1/incidents/{incident}/audit-trail?after=16490020745326362415", headers=auth()
    )

    assert (body.status_code, header.status_code, query.status_code) == (422, 422, 422)


def test_the_export_holds_the_entries_openapi_describes(client: TestClient, auth: Auth) -> None:
    import io
    import re
    import zipfile

    from replay.export import ENTRIES

    incident = report(client, auth)["id"]
    act(client, auth, incident, "reclassify", 1, regulator_category="critical", reason="ICU")
    export = client.get(f"/v1/incidents/{incident}/export", headers=auth("auditor", org="DFFH"))
    names = zipfile.ZipFile(io.BytesIO(export.content)).namelist()
    described = client.app.openapi()["paths"]["/v1/incidents/{incident_id}/export"]["get"]  # type: ignore[attr-defined]

    patterns = {n: re.compile(re.escape(n).replace("NNNN", r"\d{4}") + "$") for n in ENTRIES}
    assert [n for n in names if not any(p.match(n) for p in patterns.values())] == []
    assert [e for e, p in patterns.items() if not any(p.match(n) for n in names)] == []
    assert "states/v0002.json" in names
    answer = described["responses"]["200"]
    assert list(answer["content"]) == ["application/zip"]
    assert all(f"`{entry}`" in answer["description"] for entry in ENTRIES)
