"""Finding things (issue 21, item 7): the incident list searched by id prefix, client reference
and description words; the organisation filter partial and in any case; `assigned=me`; and the
worklist's default, what needs action with the overdue first."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import OWN, Auth, Clock, read_models_caught_up, report_body

pytestmark = pytest.mark.store


def reported(client: TestClient, auth: Auth, **overrides: Any) -> str:
    response = client.post("/v1/incidents", json=report_body(**overrides), headers=auth())
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def listed(client: TestClient, auth: Auth, **params: str) -> list[str]:
    read_models_caught_up(client)
    response = client.get(
        "/v1/incidents", params=params, headers=auth("department_officer", "DFFH")
    )
    assert response.status_code == 200, response.text
    return [i["id"] for i in response.json()["items"]]


def test_search_by_id_prefix_client_reference_and_description_words(
    client: TestClient, auth: Auth
) -> None:
    bruise = reported(client, auth, clients=[{"ref": "Client-Ab12", "aboriginal": False}])
    fall = reported(
        client,
        auth,
        clients=[{"ref": "client-9", "aboriginal": False}],
        description="The client fell in the garden; a carer was said to have pushed him.",
    )
    assert listed(client, auth, search=bruise[:8]) == [bruise]
    assert listed(client, auth, search="client-ab12") == [bruise]  # whole reference, any case
    assert set(listed(client, auth, search="client")) == {fall, bruise}  # a word of both
    assert listed(client, auth, search="GARDEN pushed") == [fall]  # every word, any case
    assert listed(client, auth, search="garden bruising") == []
    assert listed(client, auth, search="50%_") == []  # LIKE's wildcards are literal


def test_the_organisation_filter_is_partial_and_in_any_case(client: TestClient, auth: Auth) -> None:
    mine = reported(client, auth)
    other = reported(client, lambda *a, **k: auth(org="Westgate Disability Services"))
    assert OWN == "Northside CSO"
    assert listed(client, auth, organisation="northside") == [mine]
    assert listed(client, auth, organisation="DISABILITY") == [other]
    assert listed(client, auth, organisation="Northside CSO") == [mine]


def test_assigned_to_me_lists_what_i_am_appointed_to(client: TestClient, auth: Auth) -> None:
    appointed = reported(client, auth)
    reported(client, auth)
    version = 1
    for command, body in (
        ("notifications", {"kind": "police", "recipient": "VP"}),
        ("follow-up", {"kind": "investigation", "reason": "r"}),
        (
            "appoint-investigator",
            {"investigator_ref": "ivy", "independence_declared": True, "declaration": "d"},
        ),
    ):
        answer = client.post(
            f"/v1/incidents/{appointed}/{command}",
            json={"expected_version": version, **body},
            headers=auth(),
        )
        assert answer.status_code == 200, answer.text
        version = answer.json()["version"]
    read_models_caught_up(client)
    ivy = auth("investigator", sub="ivy")
    mine = client.get("/v1/incidents", params={"assigned": "me"}, headers=ivy).json()["items"]
    assert [i["id"] for i in mine] == [appointed]
    namesake = auth("investigator", org="Elsewhere", sub="ivy")
    assert (
        client.get("/v1/incidents", params={"assigned": "me"}, headers=namesake).json()["items"]
        == []
    )


def test_the_worklist_lists_what_needs_action_overdue_first_by_default(
    client: TestClient, auth: Auth, clock: Clock
) -> None:
    reported(client, auth)
    clock.advance(days=60)  # the 28-day investigation is overdue; the report itself is met
    read_models_caught_up(client)
    default = client.get("/v1/obligations", headers=auth()).json()["items"]
    everything = client.get("/v1/obligations", params={"status": "all"}, headers=auth()).json()
    statuses = [i["status"] for i in default]
    assert "overdue" in statuses and "open" in statuses and "met" not in statuses
    assert statuses == sorted(statuses, key=lambda s: s != "overdue")  # overdue first
    assert "met" in {i["status"] for i in everything["items"]}
