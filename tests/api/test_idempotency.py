"""Exactly-once commands through the API: `Idempotency-Key` scoped per principal, reserved with
the command's events, races refused cleanly (issue 10 §3). Every test runs on both stores."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import OTHER, Auth, read_models_caught_up, report_body

NOTIFY = {"kind": "police", "recipient": "Victoria Police"}


def history(client: TestClient, auth: Auth, incident: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/incidents/{incident}/history", headers=auth("auditor", "DFFH"))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["events"]
    return items


def incidents_recorded(client: TestClient, auth: Auth) -> int:
    read_models_caught_up(client)
    response = client.get("/v1/incidents", headers=auth("department_officer", "DFFH"))
    return len(response.json()["items"])


def _is_bad_key(response: Any) -> bool:
    body = response.json()
    return (
        response.status_code == 400
        and response.headers["content-type"] == "application/problem+json"
        and body["errors"][0]["field"] == "Idempotency-Key"
        and body["errors"][0]["rule"] == "idempotency.key-invalid"
    )


@pytest.mark.parametrize("key", ["", "   ", "k" * 201, "a b", "ключ", "k\x7f", '"a"b"', '""'])
def test_an_empty_or_malformed_key_is_a_400_naming_the_header(
    client: TestClient, auth: Auth, key: str
) -> None:
    response = client.post(
        "/v1/incidents",
        json=report_body(),
        headers={**auth(), "Idempotency-Key": key.encode()},  # type: ignore[dict-item]
    )

    assert _is_bad_key(response), response.text
    assert incidents_recorded(client, auth) == 0


def test_an_empty_key_never_answers_one_principal_with_anothers_incident(
    client: TestClient, auth: Auth
) -> None:
    """Issue 10 §3: A reports; B (same organisation) sends a different command with an empty
    key and was given A's incident, B's command not recorded."""
    first = client.post(
        "/v1/incidents", json=report_body(), headers=auth(sub="a", **{"Idempotency-Key": "k-1"})
    )
    empty_a = client.post(
        "/v1/incidents", json=report_body(), headers=auth(sub="a", **{"Idempotency-Key": ""})
    )
    empty_b = client.post(
        "/v1/incidents",
        json=report_body(location="Kitchen"),
        headers=auth(sub="b", **{"Idempotency-Key": ""}),
    )

    assert first.status_code == 201
    assert _is_bad_key(empty_a) and _is_bad_key(empty_b)
    assert incidents_recorded(client, auth) == 1


def test_keys_are_per_principal_within_one_organisation(client: TestClient, auth: Auth) -> None:
    headers_a = auth(sub="a", **{"Idempotency-Key": "shared"})
    headers_b = auth(sub="b", **{"Idempotency-Key": "shared"})
    a = client.post("/v1/incidents", json=report_body(), headers=headers_a)
    b = client.post("/v1/incidents", json=report_body(location="Kitchen"), headers=headers_b)
    a_again = client.post("/v1/incidents", json=report_body(), headers=headers_a)

    assert (a.status_code, b.status_code, a_again.status_code) == (201, 201, 201)
    assert a.json()["id"] != b.json()["id"]
    assert b.json()["event"]["details"]["location"] == "Kitchen"
    assert a_again.json() == a.json()
    assert incidents_recorded(client, auth) == 2


def test_two_organisations_using_one_key_on_one_incident_each_get_their_own_event(
    client: TestClient, auth: Auth
) -> None:
    """Issue 10 §3: the second organisation was answered with the first's event."""
    incident = client.post(
        "/v1/incidents", json=report_body(other_provider=OTHER), headers=auth()
    ).json()["id"]
    url = f"/v1/incidents/{incident}/notifications"

    ours = client.post(
        url,
        json={**NOTIFY, "expected_version": 1},
        headers=auth(**{"Idempotency-Key": "same-key"}),
    )
    theirs = client.post(
        url,
        json={"kind": "guardian", "recipient": "Guardian", "expected_version": 2},
        headers=auth(org=OTHER, **{"Idempotency-Key": "same-key"}),
    )

    assert ours.status_code == 200, ours.text
    assert theirs.status_code == 200, theirs.text
    assert theirs.json()["version"] == 3
    assert theirs.json()["event"]["actor"]["organisation"] == OTHER
    assert theirs.json()["event"]["recipient"] == "Guardian"
    assert [e["version"] for e in history(client, auth, incident)] == [1, 2, 3]


def test_a_repeat_is_the_first_answer_even_reformatted_and_after_the_incident_moved_on(
    client: TestClient, auth: Auth
) -> None:
    incident = client.post("/v1/incidents", json=report_body(), headers=auth()).json()["id"]
    url = f"/v1/incidents/{incident}/notifications"
    keyed = auth(**{"Idempotency-Key": '"notify-1"'})  # the draft's structured-field string
    first = client.post(url, json={**NOTIFY, "expected_version": 1}, headers=keyed)
    moved_on = client.post(url, json={**NOTIFY, "expected_version": 2}, headers=auth())
    reformatted = json.dumps({"recipient": NOTIFY["recipient"], "expected_version": 1,
                              "kind": "police"}, indent=3)  # fmt: skip
    again = client.post(
        url,
        content=reformatted,
        headers={**auth(**{"Idempotency-Key": "notify-1"}), "Content-Type": "application/json"},
    )
    different = client.post(
        url, json={**NOTIFY, "recipient": "Someone else", "expected_version": 1}, headers=keyed
    )
    other_command = client.post(
        f"/v1/incidents/{incident}/withdraw",
        json={"reason": "duplicate", "expected_version": 3},
        headers=keyed,
    )

    assert first.status_code == 200 and moved_on.status_code == 200
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"]
    for refused in (different, other_command):
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0] == {
            "field": "Idempotency-Key",
            "rule": "idempotency.key-reused",
            "message": "same key, different request",
        }
    assert [e["version"] for e in history(client, auth, incident)] == [1, 2, 3]


def test_a_repeated_report_is_the_first_answer_with_its_position(
    client: TestClient, auth: Auth
) -> None:
    headers = auth(**{"Idempotency-Key": "report-1"})
    first = client.post("/v1/incidents", json=report_body(), headers=headers)
    client.post("/v1/incidents", json=report_body(), headers=auth())  # the log moves on
    again = client.post("/v1/incidents", json=report_body(), headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert incidents_recorded(client, auth) == 2
    assert "cims_events_appended_total 2.0" in client.get("/metrics").text  # not 3


def _at_once(send: Any, n: int = 2) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def one(i: int) -> None:
        barrier.wait()
        results[i] = send(i)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_different_reports_with_one_new_key_at_once_never_both_succeed(
    client: TestClient, auth: Auth
) -> None:
    """Issue 10 §3: both got 201 with the same incident (6 of 10 rounds), one report lost."""
    for round_ in range(6):
        headers = auth(**{"Idempotency-Key": f"race-{round_}"})
        bodies = [report_body(location="Lounge"), report_body(location="Garden")]
        responses = _at_once(
            lambda i, bodies=bodies, headers=headers: client.post(
                "/v1/incidents", json=bodies[i], headers=headers
            )
        )

        codes = sorted(r.status_code for r in responses)
        assert codes in ([201, 409], [201, 422]), [r.text for r in responses]
        won = next(r for r in responses if r.status_code == 201).json()
        lost = next(r for r in responses if r.status_code != 201)
        assert lost.headers["content-type"] == "application/problem+json"
        assert lost.json()["errors"][0]["field"] == "Idempotency-Key"
        location = won["event"]["details"]["location"]
        assert location == bodies[[b["location"] for b in bodies].index(location)]["location"]
    assert incidents_recorded(client, auth) == 6


def test_one_command_sent_twice_at_once_is_recorded_once(client: TestClient, auth: Auth) -> None:
    incident = client.post("/v1/incidents", json=report_body(), headers=auth()).json()["id"]
    url = f"/v1/incidents/{incident}/notifications"
    headers = auth(**{"Idempotency-Key": "twice"})

    responses = _at_once(
        lambda _: client.post(url, json={**NOTIFY, "expected_version": 1}, headers=headers)
    )
    again = client.post(url, json={**NOTIFY, "expected_version": 1}, headers=headers)

    codes = sorted(r.status_code for r in responses)
    assert codes in ([200, 200], [200, 409]), [r.text for r in responses]
    answered = [r.json() for r in responses if r.status_code == 200]
    assert all(a == answered[0] for a in answered) and again.json() == answered[0]
    assert [e["version"] for e in history(client, auth, incident)] == [1, 2]


def test_a_key_in_flight_is_a_409_with_retry_after_and_then_the_first_answer(
    client: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = client.app.state.services.ledger  # type: ignore[attr-defined]
    real_report = ledger.report
    entered, release = threading.Event(), threading.Event()

    def slow_report(**kwargs: Any) -> Any:
        entered.set()
        release.wait(5)
        return real_report(**kwargs)

    monkeypatch.setattr(ledger, "report", slow_report)
    headers = auth(**{"Idempotency-Key": "slow"})
    first: list[Any] = []
    thread = threading.Thread(
        target=lambda: first.append(
            client.post("/v1/incidents", json=report_body(), headers=headers)
        )
    )
    thread.start()
    assert entered.wait(5)

    in_flight = client.post("/v1/incidents", json=report_body(), headers=headers)
    release.set()
    thread.join()
    after = client.post("/v1/incidents", json=report_body(), headers=headers)

    assert in_flight.status_code == 409
    assert in_flight.headers["retry-after"] == "1"
    assert in_flight.json()["errors"][0]["rule"] == "idempotency.in-flight"
    assert first[0].status_code == 201 and after.json() == first[0].json()
    assert incidents_recorded(client, auth) == 1


@pytest.mark.parametrize("kept", [True, False], ids=["kept-history", "from-store"])
def test_a_provider_that_lost_access_repeating_a_keyed_command_gets_the_404_of_any_request(
    client: TestClient, auth: Auth, kept: bool
) -> None:
    incident = client.post(
        "/v1/incidents", json=report_body(other_provider=OTHER), headers=auth()
    ).json()["id"]
    other = auth(org=OTHER, **{"Idempotency-Key": "lost-1"})
    notify = {**NOTIFY, "expected_version": 1}
    first = client.post(f"/v1/incidents/{incident}/notifications", json=notify, headers=other)
    assert first.status_code == 200, first.text
    moved = client.post(
        f"/v1/incidents/{incident}/responsible-organisation",
        json={"other_provider": None, "reason": "not theirs", "expected_version": 2},
        headers=auth(),
    )
    assert moved.status_code == 200, moved.text
    if not kept:
        ledger = client.app.state.services.ledger  # type: ignore[attr-defined]
        ledger.histories = type(ledger.histories)(ledger.histories.size)

    repeat = client.post(f"/v1/incidents/{incident}/notifications", json=notify, headers=other)
    unknown = client.post(
        "/v1/incidents/00000000-0000-4000-8000-000000000000/notifications",
        json=notify,
        headers=auth(org=OTHER, **{"Idempotency-Key": "lost-2"}),
    )

    assert repeat.status_code == unknown.status_code == 404, repeat.text
    assert repeat.json()["type"] == unknown.json()["type"]
    assert len(history(client, auth, incident)) == 3
