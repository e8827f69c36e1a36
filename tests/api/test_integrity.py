"""A record edited behind the ledger's back is never served as fact: every read of an incident
checks the stored chain, every process serves the store's rows, and the break is said."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.api.conftest import Auth, Clock, report_body
from tests.replay.test_replay import sql

pytestmark = pytest.mark.store
ORIGINAL = "Bruising on the client's arm; the client says a carer grabbed them."
ALTERED = "Nothing happened."


def edit_description_in_the_store(client: TestClient, incident: str) -> None:
    auditor = client.app.state.services.auditor  # type: ignore[attr-defined]
    row = auditor.rows.of_incident(UUID(incident))[0]
    sql(
        auditor,
        "UPDATE {table} SET state = ? WHERE originator_id = {id} AND originator_version = 1",
        [bytes(row.state).replace(ORIGINAL.encode(), ALTERED.encode()), UUID(incident)],
    )


def shown(client: TestClient, auth: Auth, incident: str) -> dict[str, Any]:
    answer = client.get(f"/v1/incidents/{incident}", headers=auth())
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_an_intact_incident_says_so(client: TestClient, auth: Auth) -> None:
    incident = client.post("/v1/incidents", json=report_body(), headers=auth()).json()["id"]

    assert shown(client, auth, incident)["integrity"] == {
        "chain": "intact",
        "events_checked": 1,
        "first_broken_version": None,
        "problem": None,
    }


def test_an_edited_event_is_served_as_stored_and_flagged_by_every_process(
    client: TestClient, auth: Auth, settings: Settings, clock: Clock
) -> None:
    incident = client.post("/v1/incidents", json=report_body(), headers=auth()).json()["id"]
    kept = shown(client, auth, incident)  # this process keeps the history it read
    assert kept["details"]["description"] == ORIGINAL

    edit_description_in_the_store(client, incident)
    cached = shown(client, auth, incident)
    with TestClient(create_app(settings, clock=clock), raise_server_exceptions=False) as fresh:
        started_after = shown(fresh, auth, incident)

    for seen in (cached, started_after):
        assert seen["details"]["description"] == ALTERED
        assert seen["integrity"]["chain"] == "broken"
        assert seen["integrity"]["first_broken_version"] == 1
        assert "altered" in seen["integrity"]["problem"]
    assert cached == started_after
