"""Hypothesis throws bodies at every command: random JSON, and valid bodies spoilt in one place.
Whatever it sends, the API never answers 5xx, every refusal is problem+json with no internals in
it, and a refused request records nothing: neither the incident's version nor the log moves."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import Auth, report_body

pytestmark = pytest.mark.store

EXAMPLES = 250
LEAKS = ("Traceback", "psycopg", "sqlite3", "SELECT ", "INSERT ", 'File "')

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
VALID: dict[str, dict[str, Any]] = {
    "client-voice": {"client_ref": "client-1", "said": "I was scared"},
    "notifications": {"kind": "police", "recipient": "Victoria Police"},
    "reclassify": {"impact": "non_major", "reason": "no injury found"},
    "response-plan": {"plan": "Daily check-ins with the client."},
}


@st.composite
def spoilt(draw: st.DrawFn) -> tuple[str, Any]:
    """A valid body for one command, with one field dropped, replaced, or added."""
    command = draw(st.sampled_from(sorted(VALID)))
    body = dict(VALID[command])
    field = draw(st.sampled_from(sorted(body)))
    how = draw(st.sampled_from(["drop", "replace", "add"]))
    if how == "drop":
        del body[field]
    elif how == "replace":
        body[field] = draw(json_values)
    else:
        body[draw(st.text(min_size=1, max_size=12))] = draw(json_values)
    return command, body


def commands(client: TestClient) -> list[str]:
    """Every command route the API publishes."""
    prefix = "/v1/incidents/{incident_id}/"
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return sorted(
        p.removeprefix(prefix) for p in paths if p.startswith(prefix) and "post" in paths[p]
    )


def test_no_body_makes_a_5xx_or_records_anything_when_refused(
    client: TestClient, auth: Auth
) -> None:
    ledger = client.app.state.services.ledger  # type: ignore[attr-defined]
    incident = client.post("/v1/incidents", json=report_body(), headers=auth()).json()["id"]
    routes = commands(client)
    assert len(routes) > 20

    def version() -> int:
        return int(client.get(f"/v1/incidents/{incident}", headers=auth()).json()["version"])

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        attempt=st.one_of(
            st.tuples(st.sampled_from(routes), json_values),
            st.tuples(st.just(""), json_values),
            spoilt(),
            st.sampled_from(sorted(VALID.items())),  # valid: may pass, conflict or be refused
        ),
        role=st.sampled_from(["incident_manager", "department_officer", "investigator"]),
        stale=st.booleans(),
    )
    def send(attempt: tuple[str, Any], role: str, stale: bool) -> None:
        command, body = attempt
        before, head = version(), ledger.recorder.max_notification_id()
        path = f"/v1/incidents/{incident}/{command}" if command else "/v1/incidents"
        headers = auth(role, **{"If-Match": f'"{before - stale}"'})
        response = client.post(path, json=body, headers=headers)

        assert response.status_code < 500, (path, body, response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
            assert not any(leak in response.text for leak in LEAKS), response.text
            assert version() == before, (path, body)
            assert ledger.recorder.max_notification_id() == head, (path, body)

    send()


HOSTILE: dict[str, tuple[bytes, int, str]] = {
    "NUL in a value": (
        b'{"client_ref": "client-1", "said": "a\\u0000b"}',
        422,
        "control-character",
    ),
    "NUL in a key": (
        b'{"client_ref": "client-1", "said": "a", "\\u0000": 1}',
        422,
        "control-character",
    ),
    "escape in a list": (b'{"client_ref": "client-1", "said": "a", "x": ["\\u001b[2J"]}', 422, ""),
    "a key twice": (b'{"client_ref": "client-1", "said": "a", "said": "b"}', 400, "duplicate-key"),
    "beyond int64": (b'{"client_ref": "c", "said": "a", "expected_version": 1e30}', 422, ""),
    "a huge array": (b'{"client_ref": [' + b'"x",' * 200_000 + b'"x"], "said": "a"}', 422, ""),
    "over 1 MiB": (b'{"said": "' + b"a" * (1024 * 1024) + b'"}', 413, "body-too-large"),
    "nested 10,000 deep": (b"[" * 10_000 + b"]" * 10_000, 400, "json-too-deep"),
    "invalid UTF-8": (b'{"client_ref": "\xff\xfe", "said": "a"}', 400, "invalid-utf8"),
    "lone surrogate": (b'{"client_ref": "client-1", "said": "\\ud800"}', 422, ""),
    "an array, not an object": (b'["client-1"]', 422, ""),
    "empty": (b"", 422, ""),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_bodies_get_a_clear_4xx_and_record_nothing(
    client: TestClient, auth: Auth, case: str
) -> None:
    raw, status, slug = HOSTILE[case]
    ledger = client.app.state.services.ledger  # type: ignore[attr-defined]
    incident = client.post("/v1/incidents", json=report_body(), headers=auth()).json()["id"]
    head = ledger.recorder.max_notification_id()
    headers = auth(**{"If-Match": '"1"', "Content-Type": "application/json"})

    response = client.post(f"/v1/incidents/{incident}/client-voice", content=raw, headers=headers)

    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith(slug)
    assert response.headers["cache-control"] == "no-store"
    assert ledger.recorder.max_notification_id() == head


def test_every_response_with_personal_data_is_marked_no_store(
    client: TestClient, auth: Auth
) -> None:
    reported = client.post("/v1/incidents", json=report_body(), headers=auth())
    incident = reported.json()["id"]
    for response in (
        reported,
        client.get(f"/v1/incidents/{incident}", headers=auth()),
        client.get(f"/v1/incidents/{incident}/history", headers=auth("auditor", org="DFFH")),
        client.get("/v1/incidents", headers=auth()),
        client.get("/v1/incidents/00000000-0000-0000-0000-000000000000", headers=auth()),
    ):
        assert response.headers["cache-control"] == "no-store", response.request.url
        assert response.headers["x-content-type-options"] == "nosniff"
