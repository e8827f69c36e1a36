"""Edges the fuzzing found: unexpected errors keep the security headers, versions are strict,
and a body with thousands of bad fields gets a bounded answer."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.problems import MAX_FIELD_ERRORS
from tests.api.conftest import Auth, report_body

pytestmark = pytest.mark.store


def test_an_unexpected_error_is_a_500_with_the_security_headers(
    client: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(client.app.state.services.read_models, "list_incidents", broken)  # type: ignore[attr-defined]
    response = client.get("/v1/incidents", headers=auth())

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "a bug" not in response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("version", "if_match"),
    [(True, None), ("1", None), (None, '"+1"'), (None, '" 1"'), (None, '"1_0"')],
)
def test_a_version_is_digits_or_a_json_integer_nothing_looser(
    client: TestClient, auth: Auth, version: object, if_match: str | None
) -> None:
    incident = client.post("/v1/incidents", json=report_body(), headers=auth()).json()["id"]
    body: dict[str, Any] = {"client_ref": "client-1", "said": "I was scared"}
    if version is not None:
        body["expected_version"] = version
    headers = auth(**({"If-Match": if_match} if if_match else {}))

    response = client.post(f"/v1/incidents/{incident}/client-voice", json=body, headers=headers)

    assert response.status_code == 422, response.text
    assert client.get(f"/v1/incidents/{incident}", headers=auth()).json()["version"] == 1


def test_thousands_of_bad_fields_get_the_first_hundred(client: TestClient, auth: Auth) -> None:
    body = report_body(**{f"unknown_{n}": n for n in range(5_000)})
    response = client.post("/v1/incidents", json=body, headers=auth())

    assert response.status_code == 422
    assert len(response.json()["errors"]) == MAX_FIELD_ERRORS
