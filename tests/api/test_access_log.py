"""Every read is accounted for: lists and worklists log the incidents they returned, refused
attempts are logged, and a read whose log entry cannot be written returns nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import OTHER, OWN, Auth, read_models_caught_up, report_body

pytestmark = pytest.mark.store


def report(client: TestClient, auth: Auth, org: str = OWN) -> str:
    response = client.post("/v1/incidents", json=report_body(), headers=auth(org=org))
    assert response.status_code == 201, response.text
    incident: str = response.json()["id"]
    return incident


def log(client: TestClient, auth: Auth, **query: Any) -> list[dict[str, Any]]:
    response = client.get(
        "/v1/access-log", params={"limit": 500, **query}, headers=auth("auditor", org="DFFH")
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_a_list_logs_each_incident_it_returned(client: TestClient, auth: Auth) -> None:
    first, second = report(client, auth), report(client, auth)
    report(client, auth, org=OTHER)  # not shown to OWN
    read_models_caught_up(client)

    listed = client.get("/v1/incidents", headers=auth("reporter"))
    assert {i["id"] for i in listed.json()["items"]} == {first, second}

    rows = [r for r in log(client, auth) if r["what"] == "list:incidents"]
    assert sorted(r["incident_id"] for r in rows) == sorted([first, second])
    assert {
        (r["actor_id"], r["actor_role"], r["actor_organisation"], r["outcome"]) for r in rows
    } == {("reporter-1", "reporter", OWN, "granted")}
    assert all(r["at"] for r in rows)


def test_a_worklist_logs_each_incident_it_showed(client: TestClient, auth: Auth) -> None:
    incident = report(client, auth)
    read_models_caught_up(client)

    shown = client.get("/v1/obligations", headers=auth()).json()["items"]
    assert {o["incident_id"] for o in shown} == {incident}

    rows = log(client, auth, incident_id=incident)
    assert [(r["what"], r["outcome"]) for r in rows] == [("list:obligations", "granted")]


def test_an_empty_list_is_logged_too(client: TestClient, auth: Auth) -> None:
    client.get("/v1/incidents", headers=auth())

    (row,) = [r for r in log(client, auth) if r["what"] == "list:incidents"]
    assert row["incident_id"] is None and row["outcome"] == "granted"


def test_refused_reads_are_logged_with_who_what_and_outcome(client: TestClient, auth: Auth) -> None:
    incident = report(client, auth)
    unknown = str(uuid.uuid4())
    outsider = auth("incident_manager", org=OTHER, sub="nosy")

    assert client.get(f"/v1/incidents/{incident}", headers=outsider).status_code == 404
    assert client.get(f"/v1/incidents/{unknown}", headers=outsider).status_code == 404
    assert client.get(f"/v1/incidents/{incident}/history", headers=outsider).status_code == 403
    refused_command = client.post(
        f"/v1/incidents/{incident}/withdraw",
        json={"reason": "r", "expected_version": 1},
        headers=outsider,
    )
    assert refused_command.status_code == 404
    assert client.get("/v1/incidents", headers=auth("regulator", org="ssr")).status_code == 403
    assert client.get(f"/v1/incidents/{incident}", headers=auth()).status_code == 200

    rows = [(r["incident_id"], r["actor_id"], r["what"], r["outcome"]) for r in log(client, auth)]
    assert rows == [
        (incident, "nosy", "incident", "refused"),
        (unknown, "nosy", "incident", "refused"),
        (incident, "nosy", "history", "refused"),
        (incident, "nosy", "command:withdraw", "refused"),
        (None, "regulator-1", "list:incidents", "refused"),
        (incident, "incident_manager-1", "incident", "granted"),
    ]


def test_every_refused_attempt_is_logged_not_only_reads_of_a_record(
    client: TestClient, auth: Auth
) -> None:
    manager = auth("incident_manager", sub="mel")

    attempts = [
        client.post("/v1/legacy-imports", json={"csv": "legacy_id\n1\n"}, headers=manager),
        client.get("/v1/feeds/ssr", headers=manager),
        client.get("/v1/access-log", headers=manager),
        client.post("/v1/incidents", json=report_body(), headers=auth("investigator", sub="iv")),
        client.get("/v1/incidents", headers=auth("auditor", org="Some Other Provider", sub="a")),
    ]

    assert [a.status_code for a in attempts] == [403] * 5
    rows = [(r["actor_id"], r["what"], r["outcome"]) for r in log(client, auth)]
    assert rows == [
        ("mel", "POST /v1/legacy-imports", "refused"),
        ("mel", "GET /v1/feeds/{regulator}", "refused"),
        ("mel", "GET /v1/access-log", "refused"),
        ("iv", "POST /v1/incidents", "refused"),
        ("a", "GET /v1/incidents", "refused"),
    ]


def test_a_list_whose_log_entry_cannot_be_written_is_not_returned(
    client: TestClient, auth: Auth
) -> None:
    report(client, auth)
    read_models_caught_up(client)
    services = client.app.state.services  # type: ignore[attr-defined]
    with services.read_models.db.transaction() as tx:
        tx.execute("DROP TABLE rm_access_log")

    for path in ("/v1/incidents", "/v1/obligations"):
        response = client.get(path, headers=auth())
        assert response.status_code >= 500, path
        assert "items" not in response.json()


@pytest.mark.parametrize(
    ("tamper", "found"),
    [
        ("DELETE FROM rm_access_log WHERE id = (SELECT MIN(id) + 1 FROM rm_access_log)", "removed"),
        (
            "UPDATE rm_access_log SET actor_id = 'someone-else' WHERE id = "
            "(SELECT MIN(id) + 2 FROM rm_access_log)",
            "altered",
        ),
        ("DELETE FROM rm_access_log WHERE id = (SELECT MIN(id) FROM rm_access_log)", "removed"),
    ],
)
def test_a_deleted_or_rewritten_access_log_entry_is_caught_by_verify_all(
    client: TestClient, auth: Auth, database_url: str, tamper: str, found: str
) -> None:
    from typer.testing import CliRunner

    from cli.main import app as cims
    from tests.cli.conftest import STRONG

    incident = report(client, auth)
    for _ in range(4):
        assert client.get(f"/v1/incidents/{incident}", headers=auth()).status_code == 200
    services = client.app.state.services  # type: ignore[attr-defined]
    before = services.auditor.verify_all()
    assert before.ok and before.access_log_entries_checked == 4, before

    with services.read_models.db.transaction() as tx:
        tx.execute(
            tamper.replace("(SELECT", "(SELECT * FROM (SELECT").replace(
                "rm_access_log)", "rm_access_log) AS t)"
            )
        )

    after = services.auditor.verify_all()
    assert not after.ok and found in (after.access_log_problem or ""), after
    verified = CliRunner().invoke(
        cims, ["replay", "verify", "--all"], env={"CIMS_DATABASE_URL": database_url, **STRONG}
    )
    assert verified.exit_code == 1 and found in verified.stdout
