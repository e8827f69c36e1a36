"""Every free-text and reference field a request carries has a length bound."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.schemas import REF_MAX, TEXT_MAX
from api.settings import Settings
from tests.api.conftest import Auth, report_body

# Strings whose syntax bounds them: parsed instants and dates, ids, enumerations.
SELF_BOUNDED_FORMATS = {"date-time", "date", "uuid"}
# The bearer token: its size is the header limit's to bound, before it is decoded.
NOT_FIELDS = {("header", "authorization")}


def _unbounded(schema: Any, where: str, components: dict[str, Any]) -> Iterator[str]:
    """Every string in `schema` (following references) with no maxLength, by where it is."""
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        yield from _unbounded(components[name], f"{where}<{name}>", components)
        return
    self_bounded = "enum" in schema or "const" in schema
    self_bounded = self_bounded or schema.get("format") in SELF_BOUNDED_FORMATS
    if schema.get("type") == "string" and not self_bounded and "maxLength" not in schema:
        yield where
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for n, sub in enumerate(schema.get(key, [])):
            yield from _unbounded(sub, f"{where}|{n}", components)
    for name, sub in schema.get("properties", {}).items():
        yield from _unbounded(sub, f"{where}.{name}", components)
    if "items" in schema:
        yield from _unbounded(schema["items"], f"{where}[]", components)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        yield from _unbounded(extra, f"{where}{{value}}", components)
        keys = schema.get("propertyNames", {"type": "string"})
        yield from _unbounded(keys, f"{where}{{key}}", components)


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    cfg = Settings(
        database_url=f"sqlite:///{tmp_path_factory.mktemp('b')}/b.db", jwt_secret="b" * 40
    )
    spec: dict[str, Any] = create_app(cfg).openapi()
    return spec


def test_every_string_a_request_carries_has_a_maximum_length(openapi: dict[str, Any]) -> None:
    components = openapi["components"]["schemas"]
    unbounded, bodies = [], 0
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for p in operation.get("parameters", []):
                if (p["in"], p["name"].lower()) not in NOT_FIELDS:
                    found = _unbounded(p["schema"], f"{where} {p['in']} {p['name']}", components)
                    unbounded.extend(found)
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                bodies += 1
                unbounded.extend(_unbounded(body["schema"], f"{where} body", components))
    assert bodies > 30  # every command's body was looked at
    assert unbounded == []


def test_a_900_kb_line_manager_ref_is_refused_naming_the_field(
    client: TestClient, auth: Auth
) -> None:
    # The input: line_manager_ref took 900 KB.
    subject = {"ref": "carer-1", "role": "staff", "line_manager_ref": "x" * 900_000}
    response = client.post(
        "/v1/incidents", json=report_body(subjects_of_allegation=[subject]), headers=auth()
    )

    assert response.status_code in (413, 422)
    if response.status_code == 422:
        fields = {e["field"] for e in response.json()["errors"]}
        assert "subjects_of_allegation.0.line_manager_ref" in fields
    just_over = {**subject, "line_manager_ref": "x" * (REF_MAX + 1)}
    response = client.post(
        "/v1/incidents", json=report_body(subjects_of_allegation=[just_over]), headers=auth()
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "subjects_of_allegation.0.line_manager_ref"
    assert response.json()["errors"][0]["rule"] == "schema.string_too_long"


def test_a_reason_longer_than_an_event_keeps_is_refused_up_front(
    client: TestClient, auth: Auth
) -> None:
    created = client.post("/v1/incidents", json=report_body(), headers=auth()).json()
    response = client.post(
        f"/v1/incidents/{created['id']}/withdraw",
        json={"reason": "r" * (TEXT_MAX + 1), "expected_version": 1},
        headers=auth(),
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "reason"
