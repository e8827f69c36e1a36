"""The front end's scripts, styles and `/openapi.json` are sent gzip-compressed to a browser that
accepts it (issue 21, item 10); `/v1` answers are not."""

from __future__ import annotations

import gzip

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Auth

pytestmark = pytest.mark.store


@pytest.mark.parametrize(
    "path", ["/js/form.js", "/style.css", "/openapi.json", "/js/pages/incident.js"]
)
def test_assets_and_the_openapi_document_are_compressed(client: TestClient, path: str) -> None:
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    packed = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert plain.status_code == packed.status_code == 200
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.content == plain.content  # the client undoes it; what arrives is the same
    assert "accept-encoding" in packed.headers.get("vary", "").lower()


def test_the_openapi_document_shrinks_to_under_a_fifth(client: TestClient) -> None:
    raw = client.get("/openapi.json", headers={"Accept-Encoding": "identity"}).content
    assert len(gzip.compress(raw)) < len(raw) / 5


def test_api_answers_are_not_compressed(client: TestClient, auth: Auth) -> None:
    answer = client.get(
        "/v1/incidents", headers={**auth(), "Accept-Encoding": "gzip"}, params={"limit": 200}
    )
    assert answer.status_code == 200
    assert "content-encoding" not in answer.headers
